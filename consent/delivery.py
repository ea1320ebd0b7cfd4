"""The direct_post adapter: one form-encoded HTTP POST from the platform to a verifier's
response_uri (OpenID4VP 1.0 §8.2). Explicit (connect, read) timeouts, no redirects followed (a 3xx
is a failure: the answer goes only where the verifier said), no retries here (the caller keeps the
state in the database and `flask consent deliver` retries). Tests swap it for a fake server."""
from __future__ import annotations

import logging

import requests
from flask import Flask

from app.adapters.http import check_timeout

log = logging.getLogger(__name__)


def post_form(app: Flask, uri: str, form: dict[str, str]) -> str | None:
    """None when the verifier answered 2xx; else a short reason (status_<n>, timeout, unreachable)."""
    timeout = check_timeout(app.config["CONSENT_DELIVERY_TIMEOUT"])
    try:
        response = requests.post(uri, data=form, timeout=timeout, allow_redirects=False,
                                 headers={"Accept": "application/json"})
    except requests.Timeout:
        reason = "timeout"
    except requests.RequestException:
        reason = "unreachable"
    else:
        if 200 <= response.status_code < 300:
            return None
        reason = f"status_{response.status_code}"
    log.warning("consent direct_post not delivered", extra={"reason": reason})
    return reason
