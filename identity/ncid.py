"""网号/网证 (NCID) authentication: sessions (bizSeq), verification of the platform's signed 凭据, levels.

The protocol is our model of the national platform (docs/design/identity-19.md §2(a), [A]); the wire
lives in identity/adapters/ncid.py. This module is what H4's login / link / step-up / consent build on
(CONTRACTS.md B):

1. `start(purpose=…, user_id=…)` issues a bizSeq held in Redis `ncid:seq:{biz_seq}` for 300 s, bound to the
   purpose and (except for login) the user: a 凭据 obtained for one purpose or person is useless for another.
2. `authenticate(…)` asks the platform and checks its answer, in this order, all failing closed:
   SM2 signature (SM3, ID 1234567812345678, strict DER, over the exact `data` bytes, key pinned by cert_sn)
   → orgCode/appId are ours → the bizSeq is ours, for this purpose and user, and is spent now (GETDEL: the
   same 凭据 sent again finds nothing = replay; `ncid:used:{sha256(data)}` SET NX for a day names a late
   replay) → serviceTime within NCID_MAX_SKEW of now and not before the session → result "0" → mode.
   Every refusal is audited (`identity.ncid`, outcome refused, `reason`), in its own unit of work, so call
   `authenticate` BEFORE your own unit of work (a refusal row must survive the refused request).
3. `level_for(mode, standing, face_score)` is decision D1 of the plan.

Nothing secret is logged or audited: not the 网证 data, not the appUserId, not the bizSeq (a hash prefix).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app

from app import audit
from app.crypto.sm2 import DEFAULT_ID
from app.db import unit_of_work
from app.redis import get_redis
from identity.adapters.ncid import (
    FACE_MODES, MODES, DevNcidGateway, NcidGatewayRejected, NcidGatewayUnavailable, SignedCredential,
)
from identity.errors import NcidAuthFailed, NcidResultInvalid, NcidSessionInvalid, NcidUnavailable

log = logging.getLogger(__name__)

PURPOSES = ("login", "link", "step_up", "consent")
SESSION_TTL = 300  # seconds a bizSeq lives (the national app's flow must finish within it) [A]
USED_TTL = 86400  # a spent 凭据 is remembered this long, so a late replay is named as one
SEQ_KEY = "ncid:seq:{}"
USED_KEY = "ncid:used:{}"
# [A] The `type` wx.ncidas takes: 0 = 网证, 1 = 网证+口令 (face modes run inside the national app).
SESSION_TYPE = 1
# Which modes each purpose accepts. All four everywhere for now: the level a mode gives is
# decided by level_for and the caller's require_level, not here.
MODES_FOR = {purpose: MODES for purpose in PURPOSES}
# [A] The platform's fail codes (result != "0") → the stable `reason` NcidAuthFailed carries.
FAIL_REASONS = {
    "1001": "credential_invalid", "1002": "password_wrong", "1003": "face_mismatch", "1004": "cancelled",
    "1005": "bizseq_unknown", "2001": "org_not_authorised",
}
_APP_USER_ID_RE = re.compile(r"^[A-Za-z0-9]{16,64}$")  # [A] 网络身份应用标识
_BIZ_SEQ_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DEFAULT_FACE_MIN_SCORE = 70


@dataclass(frozen=True)
class NcidResult:
    app_user_id: str
    mode: str  # "R01".."R04"
    service_time: datetime  # aware
    face_score: int | None
    identity: tuple[str, str] | None = None  # (name, id_number), only for purpose "consent"


# --- levels ---------------------------------------------------------------------------------

def level_for(mode: str, standing: int, face_score: int | None) -> int:
    """D1: R01 → L2; R02 → L3; R03 → L3, or L4 on an account already standing at L3; R04 → L4.
    A face mode whose score is missing or under FACE_MIN_SCORE counts as 网证 alone (L2)."""
    if mode == "R01":
        return 2
    if mode == "R02":
        return 3
    if mode not in FACE_MODES:
        raise ValueError(f"unknown NCID mode {mode!r}")
    if face_score is None or face_score < _face_min_score():
        return 2
    if mode == "R04":
        return 4
    return 4 if standing >= 3 else 3


def _face_min_score() -> int:
    try:
        return int(current_app.config.get("FACE_MIN_SCORE", DEFAULT_FACE_MIN_SCORE))
    except RuntimeError:  # outside an app context
        return DEFAULT_FACE_MIN_SCORE


# --- sessions -------------------------------------------------------------------------------

def _gateway():
    from identity.providers import providers
    return providers().ncid


def start(*, purpose: str, user_id: str | None = None) -> dict:
    """A new bizSeq for `purpose` (bound to `user_id`; login has none): what the client hands to
    wx.ncidas / the national app. ValueError for an unknown purpose or a purpose without its user."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown NCID purpose {purpose!r}")
    if purpose != "login" and not user_id:
        raise ValueError(f"NCID purpose {purpose!r} needs the user")
    biz_seq = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
    record = {"purpose": purpose, "user_id": user_id if purpose != "login" else None,
              "created_at": datetime.now(timezone.utc).timestamp()}
    get_redis().set(SEQ_KEY.format(biz_seq), json.dumps(record), ex=SESSION_TTL)
    gateway = _gateway()
    return {"biz_seq": biz_seq, "org_id": gateway.org_id, "business_id": gateway.business_id,
            "type": SESSION_TYPE, "expires_in": SESSION_TTL}


def session_live(biz_seq: str) -> bool:
    """Whether `biz_seq` names a session not yet spent or expired (nothing is spent by asking)."""
    return isinstance(biz_seq, str) and bool(_BIZ_SEQ_RE.match(biz_seq)) and \
        bool(get_redis().exists(SEQ_KEY.format(biz_seq)))


def _seq_ref(biz_seq: str) -> str:
    return "ncid:" + hashlib.sha256(biz_seq.encode("utf-8", "replace")).hexdigest()[:16]


def _refuse(error: Exception, *, reason: str, purpose: str, user_id: str | None, biz_seq: str,
            outcome: str = "refused", **details) -> Exception:
    """Audit the refusal (its own transaction) and hand back `error` to raise."""
    with unit_of_work():
        audit.record("identity.ncid", outcome=outcome, actor_kind="citizen" if user_id else None, actor_id=user_id,
                     target=_seq_ref(biz_seq), details={"purpose": purpose, "reason": reason, **details})
    log.warning("ncid refused", extra={"reason": reason, "purpose": purpose})
    return error


def _session_problem(record: dict | None, purpose: str, user_id: str | None) -> str | None:
    if record is None:
        return "session_unknown_or_spent"
    if record.get("purpose") != purpose:
        return "session_other_purpose"
    if record.get("user_id") != (user_id if purpose != "login" else None):
        return "session_other_user"
    return None


def _load(raw) -> dict | None:
    try:
        record = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


# --- authentication -------------------------------------------------------------------------

def authenticate(*, biz_seq: str, purpose: str, id_card_auth_data: str, cert_pwd_data: str | None,
                 auth_mode: str, user_id: str | None = None) -> NcidResult:
    """The platform's verified answer for this session, or NcidSessionInvalid / NcidResultInvalid /
    NcidAuthFailed / NcidUnavailable (each audited). Call it outside your unit of work."""
    def refuse(error, reason, **details):
        return _refuse(error, reason=reason, purpose=purpose, user_id=user_id, biz_seq=str(biz_seq), **details)

    if purpose not in PURPOSES:
        raise ValueError(f"unknown NCID purpose {purpose!r}")
    redis = get_redis()
    if not isinstance(biz_seq, str) or not _BIZ_SEQ_RE.match(biz_seq):
        raise refuse(NcidSessionInvalid(), "session_unknown_or_spent")
    # A look before asking the platform (nothing spent): a session for another purpose or user, or
    # one already spent, never reaches it. The binding spend comes after the signature (step 3).
    problem = _session_problem(_load(redis.get(SEQ_KEY.format(biz_seq))), purpose, user_id)
    if problem:
        raise refuse(NcidSessionInvalid(), problem)
    if auth_mode not in MODES_FOR[purpose]:
        raise refuse(NcidAuthFailed("mode_not_allowed"), "mode_not_allowed", mode=str(auth_mode)[:8])
    gateway = _gateway()
    try:
        credential = gateway.authenticate(biz_seq=biz_seq, auth_mode=auth_mode, id_card_auth_data=id_card_auth_data,
                                          cert_pwd_data=cert_pwd_data or None)
    except NcidGatewayRejected as exc:
        raise refuse(NcidAuthFailed("credential_invalid"), "credential_invalid") from exc
    except NcidGatewayUnavailable as exc:
        raise refuse(NcidUnavailable(), "unavailable", outcome="failure") from exc
    return _verify(credential, gateway=gateway, biz_seq=biz_seq, purpose=purpose, auth_mode=auth_mode,
                   user_id=user_id, refuse=refuse)


def _verify(credential: SignedCredential, *, gateway, biz_seq, purpose, auth_mode, user_id, refuse) -> NcidResult:
    """§2(a) step 5, in order."""
    # 1. signature, by the pinned key the cert_sn names
    key = gateway.platform_key(credential.cert_sn)
    if key is None:
        raise refuse(NcidResultInvalid(), "unknown_cert", cert_sn=credential.cert_sn[:64])
    if not key.verify(credential.sig, credential.data, uid=DEFAULT_ID):
        raise refuse(NcidResultInvalid(), "signature_invalid")
    try:
        data = json.loads(credential.data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise refuse(NcidResultInvalid(), "malformed")
    # 2. issued to us
    if data.get("orgCode") != gateway.org_id or data.get("appId") != gateway.app_id:
        raise refuse(NcidResultInvalid(), "other_org")
    # 3. our session, for this purpose and person, spent now
    if data.get("bizSeq") != biz_seq:
        raise refuse(NcidSessionInvalid(), "replay_other_session")
    redis = get_redis()
    record = _load(redis.getdel(SEQ_KEY.format(biz_seq)))
    problem = _session_problem(record, purpose, user_id)
    if problem:
        raise refuse(NcidSessionInvalid(), "replay" if problem == "session_unknown_or_spent" else problem)
    if not redis.set(USED_KEY.format(hashlib.sha256(credential.data).hexdigest()), "1", nx=True, ex=USED_TTL):
        raise refuse(NcidSessionInvalid(), "replay_credential_reused")
    # 4. fresh, and made for this session
    try:
        service_time = datetime.fromisoformat(data.get("serviceTime"))
    except (TypeError, ValueError):
        service_time = None
    if service_time is None or service_time.tzinfo is None:
        raise refuse(NcidResultInvalid(), "malformed")
    now = datetime.now(timezone.utc)
    skew = timedelta(seconds=int(current_app.config.get("NCID_MAX_SKEW", 300)))
    created = datetime.fromtimestamp(int(record["created_at"]), timezone.utc)  # serviceTime has whole seconds
    if abs(now - service_time) > skew:
        raise refuse(NcidResultInvalid(), "stale")
    if service_time < created:
        raise refuse(NcidResultInvalid(), "before_session")
    # 5. the platform's verdict
    result = data.get("result")
    if result != "0":
        reason = FAIL_REASONS.get(str(result), "failed")
        raise refuse(NcidAuthFailed(reason), reason, code=str(result)[:8])
    # 6. the mode asked for, and one this purpose accepts
    mode = data.get("serviceType")
    if mode != auth_mode:
        raise refuse(NcidResultInvalid(), "mode_mismatch")
    if mode not in MODES_FOR[purpose]:
        raise refuse(NcidAuthFailed("mode_not_allowed"), "mode_not_allowed")
    app_user_id = data.get("appUserId")
    if not isinstance(app_user_id, str) or not _APP_USER_ID_RE.match(app_user_id):
        raise refuse(NcidResultInvalid(), "malformed")
    face_score = data.get("faceScore")
    if mode in FACE_MODES:
        if isinstance(face_score, bool) or not isinstance(face_score, int) or not 0 <= face_score <= 100:
            raise refuse(NcidResultInvalid(), "malformed")
    else:
        face_score = None
    identity = None
    if purpose == "consent":
        info = data.get("encInfo")  # [A] plaintext here; the real platform SM2-encrypts it to our key (§3.3)
        if not (isinstance(info, dict) and isinstance(info.get("name"), str) and isinstance(info.get("idNumber"), str)):
            raise refuse(NcidAuthFailed("consent_refused"), "consent_refused")
        identity = (info["name"], info["idNumber"])
    with unit_of_work():
        audit.record("identity.ncid", actor_kind="citizen" if user_id else None, actor_id=user_id,
                     target=_seq_ref(biz_seq), details={"purpose": purpose, "mode": mode})
    return NcidResult(app_user_id=app_user_id, mode=mode, service_time=service_time, face_score=face_score,
                      identity=identity)


# --- development ----------------------------------------------------------------------------

def dev_auth_data(app_user_id: str, *, mode: str = "R02", name: str | None = None,
                  id_number: str | None = None) -> str:
    """The opaque id_card_auth_data the development gateway accepts for this person (dev / testing only:
    RuntimeError when the configured gateway is the real platform)."""
    gateway = _gateway()
    if not isinstance(gateway, DevNcidGateway):
        raise RuntimeError("dev_auth_data needs NCID_BACKEND=dev")
    return gateway.dev_auth_data(app_user_id, mode=mode, name=name, id_number=id_number)
