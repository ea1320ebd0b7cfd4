"""Registering test issuing clients to departments (every issuing client must act for one, issue 17)."""
from __future__ import annotations

import random
import re

from issuers import uscc

ALL_TYPES = ("resident_id_card", "driving_licence", "business_licence", "marriage_certificate",
             "real_estate_certificate", "social_security_card", "household_register")
_RANDOM = random.Random()


def fresh_uscc(region: str = "340100") -> str:
    """A USCC passing every check (authority 1, category 1 机关), its organisation code random."""
    body = "".join(_RANDOM.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    return uscc.complete("11" + region + body)


def register_department(runner, *, types=ALL_TYPES, name: str = "测试发证机关", region: str = "340100",
                        code: str | None = None) -> tuple[str, str]:
    """`flask issuers add`; returns (department id, USCC)."""
    code = code or fresh_uscc(region)
    out = runner.invoke(args=["issuers", "add", "--uscc", code, "--name", name, "--region", region,
                              "--types", ",".join(types)])
    assert out.exit_code == 0, out.output
    return re.search(r"issuer (iss_\w+) registered", out.output).group(1), code


def bind(runner, issuer_id: str, client_id: str) -> None:
    out = runner.invoke(args=["issuers", "bind-client", issuer_id, client_id])
    assert out.exit_code == 0, out.output


def register_client(runner, client_id: str, *, types=ALL_TYPES, name: str = "测试发证机关") -> tuple[str, str]:
    """A department of its own for an issuing client (all types unless `types`); (id, USCC)."""
    issuer_id, code = register_department(runner, types=types, name=name)
    bind(runner, issuer_id, client_id)
    return issuer_id, code
