"""FACE v1: face verification (人脸核验, L3) over a signed JSON gateway on WeChat 人脸核身 2.0's shape.

WeChat's 2.0 interface (getverifyid / queryverifyinfo, docs/design/identity-19.md §1.3) is the model:
the server opens a session for a named person, the client runs the face SDK with the session's
``verify_id``, and the *server* asks for the result, proving it knows whom it asked about with a
``cert_hash`` of the certificate data. YiWang talks to a gateway (a provincial face platform, or a
relay in front of WeChat's access-token API) with the same bodies, wrapped in the HMAC-SM3 envelope
of :mod:`app.adapters.signed_http`. Integrators implement the server side; this is the client.

Requests (``POST``, JSON, UTF-8, headers X-App-Id / X-Timestamp / X-Nonce / X-Signature exactly as
the registry protocol: HMAC-SM3(app_secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(SM3(body))))::

    {FACE_URL}/getverifyid      {out_seq_no, cert_info: {cert_type, cert_name, cert_no}, openid?}
                                → {errcode, errmsg?, verify_id, expires_in}
    {FACE_URL}/queryverifyinfo  {verify_id, out_seq_no, cert_hash}
                                → {errcode, errmsg?, verify_ret, score?}

``out_seq_no``: 24 chars of [0-9A-Za-z_-], ours, unique. ``cert_hash`` (WeChat's rule): lowercase hex
SHA-256 of ``cert_type=<b64>&cert_name=<b64>&cert_no=<b64>`` (standard base64 of the UTF-8 values).

Replies carry ``X-Signature: hex HMAC-SM3(app_secret, NONCE + "\\n" + hex(SM3(raw reply body)))``
with the request's nonce, so a reply cannot be replayed onto another request.

Outcomes: errcode 0 and verify_ret 10000 (and ``score`` ≥ the minimum when the gateway gives one,
0–100) is a pass; verify_ret 0 = the user has not finished (ask again); any other verify_ret
(90002–90006 cancelled, 90017 timed out, …) is a failure. errcode 84001 = session unknown, expired or
its result already read (a result is read once) → expired; 84002 = out_seq_no / cert_hash are not the
session's → failed. Everything else (non-200, non-JSON, bad or missing reply signature, unknown
errcode, malformed fields, timeout, connection error, open breaker) raises
:class:`~identity.liveness.LivenessUnavailable`: the client fails CLOSED.

The session (verify_id, out_seq_no, owner, cert_hash encrypted with the PII cipher: a hash of an ID
number is as guessable as the number) lives in Redis until its result is final.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import time
from typing import Any

import requests

from app.adapters.http import CircuitBreaker, CircuitOpen, Timeout, check_timeout, make_session
from app.adapters.signed_http import SignedHttpError, SignedJsonClient, json_body, new_nonce
from app.db import new_id
from identity.liveness import LivenessResult, LivenessSession, LivenessUnavailable

logger = logging.getLogger(__name__)

GETVERIFYID_PATH = "/getverifyid"
QUERY_PATH = "/queryverifyinfo"
CERT_TYPE_ID_CARD = "IDENTITY_CARD"
VERIFY_RET_PASSED = 10000
VERIFY_RET_PENDING = 0
ERR_SESSION_GONE = 84001  # unknown, expired, or its result already read
ERR_SESSION_MISMATCH = 84002  # out_seq_no / cert_hash are not the session's
MAX_EXPIRES_IN = 3600  # WeChat's default; a longer-lived session is not held for
_VERIFY_ID = re.compile(r"[\x21-\x7e]{1,256}")


def cert_hash(cert_type: str, cert_name: str, cert_no: str) -> str:
    """WeChat's cert_hash: SHA-256 (lowercase hex) of the base64'd fields joined as a query string."""
    def b64(value: str) -> str:
        return base64.b64encode(value.encode("utf-8")).decode("ascii")

    joined = f"cert_type={b64(cert_type)}&cert_name={b64(cert_name)}&cert_no={b64(cert_no)}"
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def new_out_seq_no() -> str:
    """24 chars of [0-9A-Za-z_-] (WeChat allows 5–32), 144 random bits: safe to log (it names no one)."""
    return secrets.token_urlsafe(18)[:24]


def _errcode(payload: dict[str, Any]) -> int:
    errcode = payload.get("errcode")
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        raise LivenessUnavailable("face gateway reply lacks errcode")
    return errcode


class HttpFaceProvider:
    """:class:`~identity.liveness.LivenessProvider` over FACE v1 (see module doc)."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, *, redis, cipher, min_score: float = 70,
                 timeout: Timeout = (2.0, 5.0), breaker: CircuitBreaker | None = None,
                 session: requests.Session | None = None) -> None:
        if not (base_url and app_id and app_secret):
            raise ValueError("base_url, app_id and app_secret are required")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._redis = redis
        self._cipher = cipher
        self.min_score = min_score
        self.timeout = check_timeout(timeout)
        self.breaker = breaker or CircuitBreaker(failure_threshold=5, reset_timeout=30.0,
                                                 failure_types=(LivenessUnavailable,), name="face_verification")
        self._session = session or make_session(connect_retries=1, status_retries=0)
        self._wire = SignedJsonClient(app_id, app_secret, timeout=self.timeout, session=self._session)

    def __repr__(self) -> str:
        return f"HttpFaceProvider(url={self.base_url!r}, app_id={self.app_id!r})"

    # --- LivenessProvider -------------------------------------------------------------------

    def start(self, *, user_id: str, name: str, id_number: str, openid: str | None = None) -> LivenessSession:
        out_seq_no = new_out_seq_no()
        body: dict[str, Any] = {"out_seq_no": out_seq_no,
                                "cert_info": {"cert_type": CERT_TYPE_ID_CARD, "cert_name": name, "cert_no": id_number}}
        if openid:
            body["openid"] = openid
        payload = self._call(GETVERIFYID_PATH, body)
        if _errcode(payload) != 0:
            logger.warning("face getverifyid refused: errcode %r (out_seq_no=%s)", payload["errcode"], out_seq_no)
            raise LivenessUnavailable("face gateway refused to open a session")
        verify_id, expires_in = payload.get("verify_id"), payload.get("expires_in", MAX_EXPIRES_IN)
        if not isinstance(verify_id, str) or not _VERIFY_ID.fullmatch(verify_id):
            raise LivenessUnavailable("face gateway reply lacks a valid verify_id")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in < 60:
            raise LivenessUnavailable("face gateway reply has an invalid expires_in")
        expires_in = min(expires_in, MAX_EXPIRES_IN)
        session = LivenessSession(id=new_id("lv"), biz_token=verify_id, expires_in=expires_in)
        state = {"user_id": user_id, "verify_id": verify_id, "out_seq_no": out_seq_no,
                 "expires_at": int(time.time()) + expires_in,
                 "cert_hash": base64.b64encode(self._cipher.encrypt(
                     cert_hash(CERT_TYPE_ID_CARD, name, id_number), "face.cert_hash")).decode("ascii")}
        self._redis.set(self._key(session.id), json.dumps(state), ex=expires_in)
        return session

    def result(self, session_id: str) -> LivenessResult:
        raw = self._redis.getdel(self._key(session_id))  # one reader at a time; put back unless final
        if raw is None:
            return LivenessResult(status="expired")
        state = json.loads(raw)
        try:
            outcome = self._query(state)
        except LivenessUnavailable:
            self._put_back(session_id, raw, state)
            raise
        if outcome.status == "pending":
            self._put_back(session_id, raw, state)
        return outcome

    # --- internals ----------------------------------------------------------------------------

    @staticmethod
    def _key(session_id: str) -> str:
        return f"face:session:{session_id}"

    def _put_back(self, session_id: str, raw: bytes | str, state: dict[str, Any]) -> None:
        ttl = state["expires_at"] - int(time.time())
        if ttl > 0:
            self._redis.set(self._key(session_id), raw, ex=ttl)

    def _query(self, state: dict[str, Any]) -> LivenessResult:
        user_id = state["user_id"]
        hashed = self._cipher.decrypt(base64.b64decode(state["cert_hash"]), "face.cert_hash")
        payload = self._call(QUERY_PATH, {"verify_id": state["verify_id"], "out_seq_no": state["out_seq_no"],
                                          "cert_hash": hashed})
        errcode = _errcode(payload)
        if errcode == ERR_SESSION_GONE:
            return LivenessResult(status="expired", user_id=user_id)
        if errcode == ERR_SESSION_MISMATCH:
            logger.error("face gateway: out_seq_no/cert_hash not the session's (out_seq_no=%s)", state["out_seq_no"])
            return LivenessResult(status="failed", user_id=user_id)
        if errcode != 0:
            logger.warning("face queryverifyinfo errcode %r (out_seq_no=%s)", errcode, state["out_seq_no"])
            raise LivenessUnavailable(f"face gateway errcode {errcode!r}")
        verify_ret, score = payload.get("verify_ret"), payload.get("score")
        if isinstance(verify_ret, bool) or not isinstance(verify_ret, int):
            raise LivenessUnavailable("face gateway reply lacks verify_ret")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                                  or not 0 <= score <= 100):
            raise LivenessUnavailable("face gateway reply has an invalid score")
        if verify_ret == VERIFY_RET_PENDING:
            return LivenessResult(status="pending", user_id=user_id)
        passed = verify_ret == VERIFY_RET_PASSED and (score is None or score >= self.min_score)
        logger.info("face verdict %s (verify_ret=%d, out_seq_no=%s)", "passed" if passed else "failed",
                    verify_ret, state["out_seq_no"])
        return LivenessResult(status="passed" if passed else "failed", user_id=user_id,
                              score=float(score) if score is not None else None)

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.breaker.call(lambda: self._post(path, body))
        except CircuitOpen as exc:
            logger.warning("face gateway circuit open")
            raise LivenessUnavailable("face gateway circuit open") from exc

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One signed round trip (the reply bound to our nonce); the JSON object, or :class:`LivenessUnavailable`."""
        nonce = new_nonce()
        try:
            payload = self._wire.post(self.base_url + path, json_body(body), nonce=nonce, reply_binding=nonce).payload
        except SignedHttpError as exc:
            logger.log(exc.level, "face gateway %s (%s)", exc.log_text, path)
            raise LivenessUnavailable(f"face gateway {exc.reason}") from exc
        if not isinstance(payload, dict):
            raise LivenessUnavailable("face gateway reply is not an object")
        return payload
