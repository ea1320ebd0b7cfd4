"""Strict DER for SM2: signatures (GM/T 0009) and key containers (SPKI, PKCS#8, SEC1).

Only the canonical encoding is accepted: definite, minimal lengths; minimal,
non-negative INTEGERs; exact tags; no trailing bytes. Every parse error is a
ValueError, so callers can turn it into a plain "invalid" answer.
"""
from __future__ import annotations

from functools import lru_cache

from app.crypto.sm2.curve import N

TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OCTET_STRING = 0x04
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_CTX0 = 0xA0  # [0] constructed: ECParameters / PKCS#8 attributes
TAG_CTX1 = 0xA1  # [1] constructed: ECPrivateKey publicKey

RAW_SIGNATURE_SIZE = 64


@lru_cache(maxsize=256)
def encode_oid(dotted: str) -> bytes:
    """DER OBJECT IDENTIFIER for a dotted string (used to build the constants below); memoised: a
    SignedData is built from the same dozen OIDs every time."""
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode_tlv(TAG_OID, bytes(body))



def encode_length(length: int) -> bytes:
    """Minimal definite length octets."""
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_tlv(tag: int, value: bytes) -> bytes:
    """One DER element with a single-byte tag."""
    return bytes([tag]) + encode_length(len(value)) + value


def encode_integer(value: int) -> bytes:
    """DER INTEGER (two's complement, minimal); negative values allowed for test builders."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return encode_tlv(TAG_INTEGER, value.to_bytes(size, "big", signed=True))


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """Read one element at `pos`; return (tag, value_start, value_end). Strict DER lengths."""
    if pos + 2 > len(data):
        raise ValueError("DER: truncated header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("DER: multi-byte tags are not used here")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise ValueError("DER: indefinite length")
    else:
        count = first & 0x7F
        # 4 length octets already allow 4 GiB; more is an overflow attempt.
        if count > 4 or pos + count > len(data):
            raise ValueError("DER: bad long-form length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if data[pos] == 0 or length < 0x80:
            raise ValueError("DER: non-minimal length")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("DER: length exceeds data")
    return tag, pos, end


def expect(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    """Read an element that must carry `tag`; return (value_start, value_end)."""
    got, start, end = read_tlv(data, pos)
    if got != tag:
        raise ValueError(f"DER: expected tag {tag:#04x}, got {got:#04x}")
    return start, end


def decode_unsigned(value: bytes) -> int:
    """Content octets of a non-negative, minimally encoded INTEGER."""
    if not value:
        raise ValueError("DER: empty INTEGER")
    if value[0] & 0x80:
        raise ValueError("DER: negative INTEGER")
    if len(value) > 1 and value[0] == 0 and not value[1] & 0x80:
        raise ValueError("DER: INTEGER has a superfluous leading zero")
    return int.from_bytes(value, "big")


def _in_range(r: int, s: int) -> bool:
    return 1 <= r < N and 1 <= s < N


def encode_signature(r: int, s: int) -> bytes:
    """SEQUENCE { r INTEGER, s INTEGER }; ValueError unless 1 <= r, s <= n-1."""
    if not _in_range(r, s):
        raise ValueError("SM2 signature value out of range")
    return encode_tlv(TAG_SEQUENCE, encode_integer(r) + encode_integer(s))


def _decode_der_signature(sig: bytes) -> tuple[int, int]:
    start, end = expect(sig, 0, TAG_SEQUENCE)
    if end != len(sig):
        raise ValueError("DER: trailing bytes after signature")
    r_start, r_end = expect(sig, start, TAG_INTEGER)
    s_start, s_end = expect(sig, r_end, TAG_INTEGER)
    if s_end != end:
        raise ValueError("DER: extra elements in signature")
    return decode_unsigned(sig[r_start:r_end]), decode_unsigned(sig[s_start:s_end])


def decode_signature(sig: bytes, *, allow_raw: bool = False) -> tuple[int, int]:
    """Strictly parse a DER signature (or, with allow_raw, 64-byte r ‖ s); check 1 <= r, s <= n-1.

    DER is tried first so that a DER signature that happens to be 64 bytes long
    is still read as DER; raw is only a fallback the caller opted into.
    """
    try:
        r, s = _decode_der_signature(sig)
    except ValueError:
        if not (allow_raw and len(sig) == RAW_SIGNATURE_SIZE):
            raise
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not _in_range(r, s):
        raise ValueError("SM2 signature value out of range")
    return r, s


# --- keys -----------------------------------------------------------------

OID_EC_PUBLIC_KEY = encode_oid("1.2.840.10045.2.1")
OID_SM2_CURVE = encode_oid("1.2.156.10197.1.301")

_ALGORITHM = encode_tlv(TAG_SEQUENCE, OID_EC_PUBLIC_KEY + OID_SM2_CURVE)


def encode_spki(point: bytes) -> bytes:
    """SubjectPublicKeyInfo exactly as `openssl pkey -pubout` writes an SM2 key."""
    return encode_tlv(TAG_SEQUENCE, _ALGORITHM + encode_tlv(TAG_BIT_STRING, b"\x00" + point))


def decode_spki(der: bytes) -> bytes:
    """Return the encoded point of an SM2 SubjectPublicKeyInfo (the point is not yet validated)."""
    start, end = expect(der, 0, TAG_SEQUENCE)
    if end != len(der):
        raise ValueError("DER: trailing bytes after public key")
    _, alg_end = expect(der, start, TAG_SEQUENCE)
    if der[start:alg_end] != _ALGORITHM:
        raise ValueError("not an SM2 public key (need id-ecPublicKey with the sm2 curve)")
    bits_start, bits_end = expect(der, alg_end, TAG_BIT_STRING)
    if bits_end != end or bits_end - bits_start < 1 or der[bits_start] != 0:
        raise ValueError("DER: malformed public key BIT STRING")
    return der[bits_start + 1:bits_end]


def encode_ec_private_key(d: int, point: bytes, *, with_params: bool) -> bytes:
    """SEC1 ECPrivateKey (RFC 5915); PKCS#8 embeds it without the [0] parameters, as OpenSSL does."""
    body = encode_integer(1) + encode_tlv(TAG_OCTET_STRING, d.to_bytes(32, "big"))
    if with_params:
        body += encode_tlv(TAG_CTX0, OID_SM2_CURVE)
    body += encode_tlv(TAG_CTX1, encode_tlv(TAG_BIT_STRING, b"\x00" + point))
    return encode_tlv(TAG_SEQUENCE, body)


def encode_pkcs8(d: int, point: bytes) -> bytes:
    """Unencrypted PKCS#8 PrivateKeyInfo, byte-identical in layout to `openssl genpkey -algorithm SM2`."""
    inner = encode_ec_private_key(d, point, with_params=False)
    return encode_tlv(TAG_SEQUENCE, encode_integer(0) + _ALGORITHM + encode_tlv(TAG_OCTET_STRING, inner))


def decode_ec_private_key(der: bytes, *, need_params: bool) -> tuple[int, bytes | None]:
    """Parse SEC1 ECPrivateKey; return (d, encoded public point or None). d is not range-checked."""
    start, end = expect(der, 0, TAG_SEQUENCE)
    if end != len(der):
        raise ValueError("DER: trailing bytes after private key")
    v_start, v_end = expect(der, start, TAG_INTEGER)
    if der[v_start:v_end] != b"\x01":
        raise ValueError("unsupported ECPrivateKey version")
    d_start, d_end = expect(der, v_end, TAG_OCTET_STRING)
    if not 1 <= d_end - d_start <= 32:
        raise ValueError("bad SM2 private key length")
    d = int.from_bytes(der[d_start:d_end], "big")
    pos, has_params, point = d_end, False, None
    if pos < end and der[pos] == TAG_CTX0:
        p_start, p_end = expect(der, pos, TAG_CTX0)
        if der[p_start:p_end] != OID_SM2_CURVE:
            raise ValueError("private key is not on the sm2 curve")
        pos, has_params = p_end, True
    if pos < end and der[pos] == TAG_CTX1:
        k_start, k_end = expect(der, pos, TAG_CTX1)
        b_start, b_end = expect(der, k_start, TAG_BIT_STRING)
        if b_end != k_end or b_end - b_start < 1 or der[b_start] != 0:
            raise ValueError("DER: malformed public key in private key")
        pos, point = k_end, der[b_start + 1:b_end]
    if pos != end:
        raise ValueError("DER: unexpected elements in ECPrivateKey")
    if need_params and not has_params:
        raise ValueError("EC private key does not name its curve")
    return d, point


def decode_private_key(der: bytes) -> tuple[int, bytes | None]:
    """Parse PKCS#8 (SM2 under id-ecPublicKey) or SEC1 ECPrivateKey; return (d, point or None)."""
    start, end = expect(der, 0, TAG_SEQUENCE)
    _, v_start, v_end = read_tlv(der, start)
    if der[v_start:v_end] == b"\x01":  # SEC1 starts with version 1, PKCS#8 with 0
        return decode_ec_private_key(der, need_params=True)
    if end != len(der) or der[start:v_end] != encode_integer(0):
        raise ValueError("unsupported private key format")
    _, alg_end = expect(der, v_end, TAG_SEQUENCE)
    if der[v_end:alg_end] != _ALGORITHM:
        raise ValueError("not an SM2 private key (need id-ecPublicKey with the sm2 curve)")
    k_start, k_end = expect(der, alg_end, TAG_OCTET_STRING)
    if k_end != end:
        # Optional [0] attributes carry nothing we use; anything else is refused.
        expect(der, k_end, TAG_CTX0)
        if read_tlv(der, k_end)[2] != end:
            raise ValueError("DER: unexpected elements in PKCS#8")
    return decode_ec_private_key(der[k_start:k_end], need_params=False)
