"""Migration 025 carries the wallet's per-client issuers over to the registry: each becomes a
suspended department (same id and name, its old code kept as legacy_code, no USCC or region yet,
the types it has issued, its client bound); it resumes only once its USCC and region are recorded."""
from __future__ import annotations

from datetime import datetime

import peewee as pw
from peewee_migrate import Router

from app.db import MIGRATIONS_DIR


def test_wallet_issuers_become_suspended_departments(tmp_path):
    database = pw.SqliteDatabase(str(tmp_path / "old.db"), pragmas={"foreign_keys": 1})
    router = Router(database, migrate_dir=str(MIGRATIONS_DIR))
    router.run("024_consent")  # the schema before the registry
    now = datetime(2026, 11, 1, 8, 0)
    database.execute_sql('INSERT INTO wallet_issuer (id, client_id, code, name, key_id, next_serial, created_at) '
                         'VALUES (?, ?, ?, ?, ?, ?, ?)',
                         ("iss_old", "cl_old", "110000004XK3M7R2PQ", "省公安厅", "key_1", 3, now))
    for n, type_code in enumerate(("resident_id_card", "driving_licence", "driving_licence")):
        database.execute_sql(
            'INSERT INTO licence (id, identifier, type_code, issuer_id, reference, request_digest, holder_bidx, '
            'holder_name_enc, holder_id_enc, data_enc, valid_from, status, version, signature, key_id, '
            'canonical_sha, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (f"lic_{n}", f"id-{n}", type_code, "iss_old", f"ref-{n}", "d", "b", b"x", b"x", b"x", "2020-01-01", "01", 1,
             b"s", "key_1", "sha", now, now))
    router.run()
    rows = database.execute_sql("SELECT id, uscc, legacy_code, name, region, types, status FROM issuer").fetchall()
    assert rows == [("iss_old", None, "110000004XK3M7R2PQ", "省公安厅", None, "driving_licence,resident_id_card",
                     "suspended")]
    assert database.execute_sql("SELECT client_id, issuer_id FROM issuer_client").fetchall() == [("cl_old", "iss_old")]
    # the wallet's row keeps its code (its licences' identifiers and signatures) and now names the department
    assert database.execute_sql("SELECT id, client_id, code FROM wallet_issuer").fetchall() == [
        ("iss_old", "iss_old", "110000004XK3M7R2PQ")]
    assert database.execute_sql("SELECT count(*) FROM licence WHERE issuer_id = 'iss_old'").fetchone() == (3,)


def test_a_carried_over_department_resumes_only_with_its_uscc_and_region(app, runner):
    from app.db import db
    from issuers import service
    from issuers.errors import UsccMissing
    from issuers.models import Issuer
    from tests.issuers.registry import fresh_uscc

    with app.app_context(), db.connection_context():
        Issuer.create(id="iss_old", uscc=None, legacy_code="110000004XK3M7R2PQ", name="省公安厅", region=None,
                      types="driving_licence", status="suspended")
    refused = runner.invoke(args=["issuers", "resume", "iss_old"])
    assert refused.exit_code != 0 and "尚未登记统一社会信用代码" in refused.output
    code = fresh_uscc("340000")
    assert runner.invoke(args=["issuers", "update", "iss_old", "--uscc", code, "--region", "340000"]).exit_code == 0
    assert runner.invoke(args=["issuers", "resume", code]).exit_code == 0
    with app.app_context(), db.connection_context():
        assert service.get_issuer("iss_old").status == "active"
        assert UsccMissing.code == "issuer_uscc_missing"
