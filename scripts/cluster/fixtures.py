"""The tests' data on the cluster: what tests/faults/conftest.py's Rig makes, made here through
the balancer (HTTP) and an in-process app on the cluster's database and Redis (CLI commands,
SQL): no `flask` start-up per command on a 2-core machine (`Cluster.flask()` runs the real CLI).
"""
from __future__ import annotations

import os
import secrets

import requests

CLERK_PASSWORD = "Counter-Pass-2026!"  # tests/wallet/conftest.py's, so the tests' helpers agree


class Fixtures:
    """Mixed into `Cluster`: uses its `env`, `workdir` and `lb_url`."""

    env: dict[str, str]
    workdir: str
    lb_url: str
    _app: object

    @property
    def app(self):
        """An app on the cluster's database and Redis (for CLI commands and SQL, not for serving)."""
        if self._app is None:
            from app import create_app  # imported late: `python -m scripts.cluster` needs no app
            from app.config import DEFAULTS, _coerce

            # the settings every process got, typed as the app reads them from its environment
            config = {k: _coerce(DEFAULTS[k], v) for k, v in self.env.items() if k in DEFAULTS}
            config["VAR_DIR"] = os.path.join(self.workdir, "var", "tests")
            os.makedirs(config["VAR_DIR"], exist_ok=True)
            self._app = create_app(config)
        return self._app

    def cli(self, *args: str) -> str:
        """A CLI command in the in-process app; its output (asserts it succeeded)."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        if result.exit_code != 0:
            raise RuntimeError(f"flask {' '.join(args)}: {result.output}{result.exception!r}")
        return result.output

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a hand-written statement (`?` placeholders) on the cluster's database."""
        from app.db import db, execute

        with self.app.app_context(), db.connection_context():
            return execute(sql, params).fetchall()

    def release_connections(self) -> None:
        if self._app is not None:
            from app.db import db

            if hasattr(db.obj, "close_all"):
                db.obj.close_all()
            self._app = None

    @staticmethod
    def person(name: str = "集群测试") -> tuple[str, str]:
        """A fresh (name, ID number) no other test of the session uses (random sequence, valid check char)."""
        from app.idnumber import check_char

        born = f"{1960 + secrets.randbelow(40)}{1 + secrets.randbelow(12):02d}{1 + secrets.randbelow(28):02d}"
        first17 = "340102" + born + f"{secrets.randbelow(1000):03d}"
        return name, first17 + check_char(first17)

    @staticmethod
    def phone() -> str:
        """A fresh mobile number (199 + 8 random digits)."""
        return "199" + f"{secrets.randbelow(10 ** 8):08d}"

    def citizen(self, person: tuple[str, str], phone: str) -> dict[str, str]:
        """A citizen at L2 (registry entry, SMS login, real name) through the balancer: bearer headers."""
        self.cli("registry", "add", "--name", person[0], "--id-number", person[1])
        with requests.Session() as s:
            sent = s.post(self.lb_url + "/api/v1/auth/sms-codes", json={"phone": phone}, timeout=30)
            assert sent.status_code == 202, sent.text
            items = s.get(self.lb_url + "/api/v1/dev/sms-outbox", params={"phone": phone}, timeout=30).json()["items"]
            login = s.post(self.lb_url + "/api/v1/auth/login", json={"phone": phone, "code": items[0]["code"]},
                           timeout=30)
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            verified = s.post(self.lb_url + "/api/v1/me/real-name", json={"name": person[0], "id_number": person[1]},
                              headers=headers, timeout=30)
            assert verified.status_code == 200, verified.text
        return headers

    def machine(self, scopes: str) -> dict[str, str]:
        """A machine client with `scopes` (an issuing one bound to a registered issuer): bearer headers."""
        out = self.cli("clients", "create", "--name", f"cluster {scopes}", "--scopes", scopes)
        creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        if "licences:issue" in scopes.split():
            from tests.issuers.registry import ALL_TYPES, fresh_uscc

            added = self.cli("issuers", "add", "--uscc", fresh_uscc(), "--name", "集群测试发证机关", "--region",
                             "340100", "--types", ",".join(ALL_TYPES))
            self.cli("issuers", "bind-client", added.split()[1], creds["client_id"])
        response = requests.post(self.lb_url + "/api/v1/oauth/token", data={
            "grant_type": "client_credentials", "client_id": creds["client_id"],
            "client_secret": creds["client_secret"]}, timeout=30)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def clerk(self, username: str = "clerk.cluster") -> dict[str, str]:
        """A counter clerk of hall H1, logged in through the balancer: bearer headers."""
        try:
            self.cli("staff", "create", "--username", username, "--password", CLERK_PASSWORD, "--role", "counter",
                     "--hall", "H1")
        except RuntimeError:  # made by an earlier test of the session: log in again
            pass
        response = requests.post(self.lb_url + "/api/v1/auth/staff-login",
                                 json={"username": username, "password": CLERK_PASSWORD}, timeout=30)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def licence(self, issuer_headers: dict[str, str], person: tuple[str, str], reference: str) -> str:
        """A driving licence issued to `person` through the balancer; its id."""
        from tests.wallet.conftest import ISSUE, issue_body

        response = requests.post(self.lb_url + ISSUE, json=issue_body(person, reference=reference),
                                 headers=issuer_headers, timeout=60)
        assert response.status_code == 201, response.text
        return response.json()["id"]
