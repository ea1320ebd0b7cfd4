"""The few DER pieces SignedData needs, built and read by hand so that every byte is known:
strict lengths (definite, minimal: BER indefinite lengths are refused), exact tags, no trailing
bytes. Every error is a CmsError."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from app.crypto.cms.model import CmsError
from app.crypto.sm2 import der as sm2der

SEQUENCE, SET, OCTET_STRING, OID, INTEGER, NULL = 0x30, 0x31, 0x04, 0x06, 0x02, 0x05
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
CTX0, CTX1, CTX4, PRIM0 = 0xA0, 0xA1, 0xA4, 0x80

tlv = sm2der.encode_tlv
oid = sm2der.encode_oid
integer = sm2der.encode_integer


def seq(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def set_of(parts: list[bytes]) -> bytes:
    """DER SET OF: the encodings in ascending order (X.690 §11.6)."""
    return tlv(SET, b"".join(sorted(parts)))


def algorithm(dotted: str) -> bytes:
    """AlgorithmIdentifier with absent parameters (GmSSL refuses NULL parameters for SM3)."""
    return seq(oid(dotted))


def dotted_oid(dotted: object) -> str:
    """`dotted` if it is a usable OBJECT IDENTIFIER in dotted form; CmsError otherwise."""
    if not isinstance(dotted, str) or not re.fullmatch(r"[0-2](\.(0|[1-9][0-9]{0,17}))+", dotted):
        raise CmsError(f"not a dotted OBJECT IDENTIFIER: {dotted!r}")
    if dotted[0] != "2" and int(dotted.split(".")[1]) >= 40:
        raise CmsError(f"not a dotted OBJECT IDENTIFIER: {dotted!r}")
    return dotted


def attribute(dotted: str, values: list[bytes]) -> bytes:
    return seq(oid(dotted), set_of(values))


def time_value(moment: datetime) -> bytes:
    """signingTime: UTCTime 1950–2049, GeneralizedTime otherwise (RFC 5652 §11.3), whole seconds."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if 1950 <= moment.year < 2050:
        return tlv(UTC_TIME, moment.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(GENERALIZED_TIME, moment.strftime("%Y%m%d%H%M%SZ").encode())


def read_time(tag: int, value: bytes) -> datetime:
    try:
        text = value.decode("ascii")
        if tag == UTC_TIME and len(text) == 13 and text.endswith("Z"):
            moment = datetime.strptime(text, "%y%m%d%H%M%SZ")
            if moment.year >= 2050:
                moment = moment.replace(year=moment.year - 100)
        elif tag == GENERALIZED_TIME and len(text) == 15 and text.endswith("Z"):
            moment = datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise CmsError("signingTime is not UTCTime/GeneralizedTime in whole seconds, Z")
    except (UnicodeDecodeError, ValueError) as exc:
        raise CmsError(f"bad signingTime: {exc}") from None
    return moment.replace(tzinfo=timezone.utc)


def decode_oid(value: bytes) -> str:
    """Dotted string of OBJECT IDENTIFIER content octets (minimal base-128 arcs)."""
    if not value or value[-1] & 0x80:
        raise CmsError("bad OBJECT IDENTIFIER")
    arcs, current, fresh = [], 0, True
    for byte in value:
        if fresh and byte == 0x80:
            raise CmsError("non-minimal OBJECT IDENTIFIER arc")
        current = (current << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(current)
            current = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


class Reader:
    """Sequential reader over the contents of one constructed element."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data, self.pos, self.end = data, start, len(data) if end is None else end

    def more(self) -> bool:
        return self.pos < self.end

    def peek(self) -> int | None:
        return self.data[self.pos] if self.more() else None

    def element(self, tag: int | None = None) -> tuple[int, int, int, int]:
        """The next element: (tag, header start, value start, value end); CmsError if `tag` differs."""
        if not self.more():
            raise CmsError("DER: element missing")
        try:
            got, start, end = sm2der.read_tlv(self.data[:self.end], self.pos)
        except ValueError as exc:
            raise CmsError(str(exc)) from None
        if tag is not None and got != tag:
            raise CmsError(f"DER: expected tag {tag:#04x}, got {got:#04x}")
        begin, self.pos = self.pos, end
        return got, begin, start, end

    def raw(self, tag: int | None = None) -> bytes:
        """The next whole element (tag, length, value)."""
        _, begin, _, end = self.element(tag)
        return self.data[begin:end]

    def value(self, tag: int) -> bytes:
        _, _, start, end = self.element(tag)
        return self.data[start:end]

    def inner(self, tag: int) -> "Reader":
        _, _, start, end = self.element(tag)
        return Reader(self.data, start, end)

    def optional(self, tag: int) -> "Reader | None":
        return self.inner(tag) if self.peek() == tag else None

    def oid(self) -> str:
        return decode_oid(self.value(OID))

    def done(self) -> None:
        if self.more():
            raise CmsError("DER: unexpected trailing data")


def read_algorithm(reader: Reader) -> str:
    """An AlgorithmIdentifier with absent or NULL parameters; returns the dotted OID."""
    inner = reader.inner(SEQUENCE)
    dotted = inner.oid()
    if inner.more() and inner.value(NULL) != b"":
        raise CmsError("DER: bad NULL")
    inner.done()
    return dotted


def single(data: bytes) -> bytes:
    """`data` must be exactly one DER element."""
    reader = Reader(bytes(data))
    reader.element()
    reader.done()
    return bytes(data)
