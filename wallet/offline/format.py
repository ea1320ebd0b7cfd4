"""The offline-verifiable QR (离线亮证码), format version 1: a fixed binary layout, SM2-signed,
written as base45 text for the QR's alphanumeric mode. No JSON, no CBOR: every field has a fixed
place or a one-byte length, so a verifier in any language reads it with a few lines of code.

QR text: ``YWO1:`` + base45(payload ‖ signature) — RFC 9285 base45 (the EU Digital COVID
Certificate's choice): 2 bytes → 3 characters of the QR alphanumeric set (0–9 A–Z space $ % * + - . / :),
which a QR encodes in 5.5 bits each: 8.25 bits per byte, against 8.8 for Base32 and 10.7 for
base64 (byte mode). The prefix is in the same set, so the whole text stays in alphanumeric mode.

Bytes (integers big-endian; ``s8`` = one length byte 0–255, then that many bytes; text is UTF-8):

    off  size  field
    0    1     version, 0x01
    1    8     platform key id (kid): the 16 hex digits of the trust list's ``platform_keys[].kid``
               as 8 bytes (kid = the first 8 bytes of SM3 over the key's SubjectPublicKeyInfo DER)
    9    4     issued_at, unix seconds
    13   2     lifetime, seconds, 1–300 (expires_at = issued_at + lifetime; ≤ 5 minutes)
    15   8     nonce, random (a verifier's "seen before on this device" key, with the kid)
    23   8     issuer key id: the kid of the issuer's SM2 key that signed the licence version, as
               the trust list's ``issuers[].keys[].kid`` (same rule: SM3 over its SPKI, 8 bytes)
    31   4     licence version signed_at, unix seconds (checked against a key's ``revoked_since``)
    35   s8    licence identifier, GB/T 36904 (ASCII; its 3-digit version segment is the version)
         s8    issuer USCC (统一社会信用代码, 18 ASCII characters)
         s8    licence type code (the catalogue's ``code``, e.g. ``driving_licence``)
         s8    matter code (用证事项, the catalogue's ``code``, e.g. ``vehicle_check``)
         s8    holder binding: the holder's name masked (``张*``)
         s8    holder binding: the last 4 characters of the holder's ID number
         1     n, the number of disclosed fields (0–32)
         n ×   field: s8 key, 1 byte how (0 full, 1 masked, 2 tail4), s8 value as the matter shows it
    -64  64    SM2 signature, raw r ‖ s (32 + 32 bytes, not DER: 6–8 bytes smaller), by the platform
               "presentation" key, with SM3 and the default user id 1234567812345678 (GM/T 0009),
               over every preceding byte (offset 0 up to the signature)

Holder binding: the verifier compares the masked name and the last four characters of the ID
number with the person in front of it and their physical ID card (or the photo licence the matter
asks for). Nothing else about the holder is in the code unless the matter discloses it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

PREFIX = "YWO1:"
VERSION = 1
SIGNATURE_LEN = 64
KID_LEN = 8
NONCE_LEN = 8
MAX_LIFETIME = 300  # seconds: the "≤ 5 minutes"
MAX_FIELDS = 32
HOWS = ("full", "masked", "tail4")
_HEAD = struct.Struct(">B8sIH8s8sI")  # version, kid, issued_at, lifetime, nonce, issuer kid, signed_at


class FormatError(ValueError):
    """Not a well-formed offline QR of a known version (the verifier's `malformed`)."""


@dataclass(frozen=True)
class OfflinePayload:
    """What an offline QR says (before or after its signature is checked)."""

    kid: str  # platform key id, 16 hex
    issued_at: int
    lifetime: int
    nonce: bytes
    issuer_kid: str  # 16 hex
    licence_signed_at: int
    identifier: str
    issuer_uscc: str
    type_code: str
    matter: str
    holder_name_masked: str
    holder_id_tail4: str
    fields: tuple[tuple[str, str, str], ...] = field(default=())  # (key, how, value)

    @property
    def expires_at(self) -> int:
        return self.issued_at + self.lifetime

    @property
    def licence_version(self) -> int:
        """The identifier's version segment (GB/T 36904: …<serial>.<version>.<check>)."""
        parts = self.identifier.split(".")
        return int(parts[-2]) if len(parts) >= 3 and parts[-2].isdigit() else 0


# --- base45 (RFC 9285) ---------------------------------------------------------------------------

_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUE = {c: i for i, c in enumerate(_B45)}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (_B45[c], _B45[d], _B45[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (_B45[c], _B45[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Strict: only the 45 characters, no chunk of one character, no value over 65535 (255)."""
    try:
        values = [_B45_VALUE[c] for c in text]
    except KeyError:
        raise FormatError("not base45") from None
    if len(values) % 3 == 1:
        raise FormatError("base45 length")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        n = sum(v * 45 ** k for k, v in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise FormatError("base45 value")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise FormatError("base45 value")
            out.append(n)
    return bytes(out)


# --- the payload --------------------------------------------------------------------------------

def _s8(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 255:
        raise ValueError(f"field too long for the offline QR ({len(raw)} bytes)")
    return bytes([len(raw)]) + raw


def encode_payload(p: OfflinePayload) -> bytes:
    """The signed part (everything before the signature)."""
    if not 1 <= p.lifetime <= MAX_LIFETIME or len(p.fields) > MAX_FIELDS or len(p.nonce) != NONCE_LEN:
        raise ValueError("offline QR out of bounds")
    out = bytearray(_HEAD.pack(VERSION, bytes.fromhex(p.kid), p.issued_at, p.lifetime, p.nonce,
                               bytes.fromhex(p.issuer_kid), p.licence_signed_at))
    for text in (p.identifier, p.issuer_uscc, p.type_code, p.matter, p.holder_name_masked, p.holder_id_tail4):
        out += _s8(text)
    out.append(len(p.fields))
    for key, how, value in p.fields:
        out += _s8(key) + bytes([HOWS.index(how)]) + _s8(value)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise FormatError("truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def s8(self) -> str:
        n = self.byte()
        raw = self.data[self.pos:self.pos + n]
        if len(raw) != n:
            raise FormatError("truncated")
        self.pos += n
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise FormatError("not UTF-8") from None


def decode_payload(signed: bytes) -> OfflinePayload:
    """The fields of the signed bytes; FormatError unless every byte is accounted for."""
    if len(signed) < _HEAD.size:
        raise FormatError("truncated")
    version, kid, issued_at, lifetime, nonce, issuer_kid, signed_at = _HEAD.unpack_from(signed)
    if version != VERSION:
        raise FormatError("unknown version")
    if not 1 <= lifetime <= MAX_LIFETIME:
        raise FormatError("lifetime")
    r = _Reader(signed, _HEAD.size)
    texts = [r.s8() for _ in range(6)]
    count = r.byte()
    if count > MAX_FIELDS:
        raise FormatError("too many fields")
    fields = []
    for _ in range(count):
        key = r.s8()
        how = r.byte()
        if how >= len(HOWS):
            raise FormatError("field how")
        fields.append((key, HOWS[how], r.s8()))
    if r.pos != len(signed):
        raise FormatError("trailing bytes")
    if len({key for key, _, _ in fields}) != len(fields):
        raise FormatError("duplicate field")
    return OfflinePayload(kid.hex(), issued_at, lifetime, nonce, issuer_kid.hex(), signed_at, *texts,
                          fields=tuple(fields))


def to_text(signed: bytes, signature_raw: bytes) -> str:
    if len(signature_raw) != SIGNATURE_LEN:
        raise ValueError("signature must be raw r ‖ s, 64 bytes")
    return PREFIX + b45encode(signed + signature_raw)


def split_text(text: str) -> tuple[bytes, bytes]:
    """(signed bytes, raw signature) of a QR text; FormatError when it is not one."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise FormatError("prefix")
    raw = b45decode(text[len(PREFIX):])
    if len(raw) <= SIGNATURE_LEN + _HEAD.size:
        raise FormatError("truncated")
    return raw[:-SIGNATURE_LEN], raw[-SIGNATURE_LEN:]


API_DESCRIPTION = (
    "离线亮证码 (offline-verifiable QR): signed for one matter, checked by a verifier with the cached trust list "
    "(GET /.well-known/yiwang/issuers) and no network. It lives at most five minutes; the platform cannot know "
    "when or where it is scanned, so the holder's usage history records only that it was issued (result "
    "`offline_issued`, the matter and the field names).\n\n"
    "**The text and its bytes** (wallet/offline/format.py):\n\n"
    + "\n".join("    " + line if line else "" for line in (__doc__ or "").split("\n")) + "\n\n"
    "**Verifying** without YiWang: `flask wallet verify-offline QR_TEXT --trust-list issuers.json --signature "
    "issuers.sig --ca ca.pem` (the trust list saved as its route's description says), or in Python "
    "`wallet.offline.verify(qr_text, trust_list, now=, seen=)`; the counter page does the same in the browser. "
    "With the OpenSSL CLI alone: base45-decode the text after `YWO1:`, take the last 64 bytes as r ‖ s, write "
    "them as DER `SEQUENCE {INTEGER r, INTEGER s}` to sig.der and the bytes before them to signed.bin, then "
    "`openssl pkeyutl -verify -pubin -inkey presentation.pub -rawin -digest sm3 -pkeyopt "
    "distid:1234567812345678 -in signed.bin -sigfile sig.der`, with presentation.pub the `platform_keys[]` "
    "entry of purpose `presentation` whose kid is bytes 1–8 in hex.\n\n"
    "Refusals a verifier reports (codes): malformed, unknown_key, signature_invalid, not_yet_valid, expired, "
    "issuer_unknown, issuer_key_revoked, issuer_type_not_allowed; a code scanned again on the same device "
    "within its lifetime: seen_before."
)
