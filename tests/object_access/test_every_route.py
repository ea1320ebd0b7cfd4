"""Every id-taking route is exercised by one of this package's modules (their ROUTES), or is
public by design (NOT_OWNED), so a new one cannot slip past."""
from __future__ import annotations

from tests.object_access import (test_account, test_agents, test_cases, test_consent, test_enterprises,
                                 test_issuer_keys,
                                 test_issuers, test_lifecycle, test_map,
                                 test_matters, test_offline_qr, test_signing, test_verify_reports,
                                 test_wallet_and_proxies)

# Ids that are public by design: the hall directory and its slots (anyone looks for a hall, and its
# queue length, before logging in), certificate status (OCSP-like), static files, and the dev-only
# liveness provider stand-in (the provider's side, not the citizen's; absent in production).
NOT_OWNED = {
    "/api/v1/map/halls/<hall_id>", "/api/v1/map/halls/<hall_id>/slots",
    "/api/v1/signing/certificates/<serial>/status", "/static/<path:filename>",
    "/counter/static/<path:filename>", "/m/static/<path:filename>", "/api/docs/static/<path:filename>",
    "/api/v1/dev/liveness/<session_id>/complete",
    "/.well-known/yiwang/keys/<kid>.pem",  # a published key's certificate (the trust list's signer, issue 17)
    "/api/v1/signing/ocsp/<path:encoded>",  # OCSP by GET (RFC 6960 A.1): public like the CRL (issue 18)
}
TESTED = set().union(*(m.ROUTES for m in (test_agents, test_account, test_cases, test_consent, test_enterprises,
                                          test_issuer_keys, test_issuers, test_lifecycle,
                                          test_map, test_matters, test_offline_qr, test_signing, test_verify_reports,
                                          test_wallet_and_proxies)))


def test_every_id_taking_route_is_accounted_for(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.arguments}
    assert rules - NOT_OWNED - TESTED == set(), "a new id-taking route: add its test to tests/object_access/"
    assert TESTED <= rules and not NOT_OWNED & TESTED, "a route listed here no longer exists, or twice"
