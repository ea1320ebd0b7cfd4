"""The audit trail's hash chain: sealing, tamper detection, concurrency, archive and retention."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from app import audit
from app.audit import AuditEvent
from app.audit_chain import AuditArchive, AuditChainHead, seal, verify
from app.db import db, insert_row, unit_of_work, utcnow
from tests import vectors
from tests.signing.conftest import enrol, sign
from tests.wallet.conftest import issue, issue_body, present


@pytest.fixture
def app(make_app):
    return make_app(AUDIT_SEAL_MIN_AGE=0)


def _record(app, n: int, action: str = "test.event", **fields) -> None:
    with app.app_context(), unit_of_work():
        for i in range(n):
            audit.record(action, actor_kind="user", actor_id=f"u_{i}", target=f"t_{i}", details={"i": i}, **fields)


def _ids() -> list[int]:
    return [r.id for r in AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id)]


def test_seal_then_verify_ok(app, runner):
    _record(app, 5)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "5 record(s) checked" in result.output
    with app.app_context():
        rows = list(AuditEvent.select().order_by(AuditEvent.seq))
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert AuditChainHead.get_by_id(1).chain_hash == rows[-1].chain_hash
        _record(app, 2)  # later rows continue the same chain
        assert seal() == 2 and verify().ok


def test_young_rows_wait_for_a_later_run(make_app):
    app = make_app(AUDIT_SEAL_MIN_AGE=60)
    _record(app, 3)
    with app.app_context():
        assert seal() == 0
        assert AuditEvent.select().where(AuditEvent.seq.is_null()).count() == 3


def test_changed_row_is_detected_with_its_id(app, runner):
    _record(app, 5)
    assert runner.invoke(args=["audit", "seal"]).exit_code == 0
    changed = _ids()[2]
    with app.app_context():
        AuditEvent.update(outcome="failure").where(AuditEvent.id == changed).execute()
        problems = verify().problems
    assert [(p.kind, p.event_id) for p in problems] == [("changed", changed)]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"id {changed}" in result.output


def test_deleted_row_is_detected_between_its_neighbours(app, runner):
    _record(app, 5)
    with app.app_context():
        seal()
        ids = _ids()
        AuditEvent.delete().where(AuditEvent.id == ids[2]).execute()
        problems = verify().problems
    assert [(p.kind, p.seq) for p in problems] == [("deleted", 3)]
    assert f"between id {ids[1]} and id {ids[3]}" in problems[0].detail
    assert runner.invoke(args=["audit", "verify"]).exit_code != 0


def test_deleted_last_rows_are_detected_from_the_head(app):
    _record(app, 4)
    with app.app_context():
        seal()
        AuditEvent.delete().where(AuditEvent.seq >= 3).execute()
        problems = verify().problems
    assert [(p.kind, p.seq) for p in problems] == [("deleted", 3)]


def test_forged_rows_are_detected_with_their_ids(app):
    _record(app, 3)
    with app.app_context():
        seal()
        head = AuditChainHead.get_by_id(1)
        # In the chain's place, with a hash made without the key.
        forged = insert_row(AuditEvent, action="admin.role_change", outcome="success", actor_id="u_evil",
                            seq=head.seq + 1, chain_hash="ab" * 32)
        problems = verify().problems
        assert ("changed", _ids()[-1]) in [(p.kind, p.event_id) for p in problems]
        AuditEvent.delete().where(AuditEvent.seq == head.seq + 1).execute()
        # Unsealed but back-dated before the sealed records: not sealed, reported.
        insert_row(AuditEvent, action="auth.login", outcome="success", actor_id="u_evil",
                   at=utcnow() - timedelta(days=2))
        backdated = _ids()[-1]
        assert seal() == 0
        problems = verify().problems
    assert forged is not None
    assert [(p.kind, p.event_id) for p in problems] == [("inserted", backdated)]


def test_concurrent_inserts_and_sealers_keep_one_chain(app):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for _ in range(10):
                _record(app, 2, action=f"thread.{n}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            db.close()

    def sealer() -> None:
        try:
            with app.app_context():
                for _ in range(10):
                    seal()
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)] + [threading.Thread(target=sealer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with app.app_context():
        seal()
        result = verify()
        assert result.ok, result.problems
        assert result.checked == 120 == AuditEvent.select().where(AuditEvent.seq.is_null(False)).count()
        seqs = [r.seq for r in AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.seq)]
    assert seqs == list(range(1, 121))


def _old_rows(app, days: int, n: int) -> None:
    with app.app_context(), unit_of_work():
        for i in range(n):
            insert_row(AuditEvent, action="old.event", outcome="success", actor_id=f"u_{i}",
                       at=utcnow() - timedelta(days=days, minutes=n - i))


def test_archive_moves_old_records_and_the_chain_still_verifies(app, runner, tmp_path):
    _old_rows(app, 400, 4)
    with app.app_context():
        seal()
    _record(app, 3)
    out = tmp_path / "audit-2025.jsonl"
    before = (utcnow() - timedelta(days=200)).date().isoformat()
    result = runner.invoke(args=["audit", "archive", "--before", before, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "archived 4 record(s)" in result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["seq"] for line in lines[:-1]] == [1, 2, 3, 4]
    assert lines[-1]["manifest"]["through_seq"] == 4 and len(lines[-1]["mac"]) == 64
    with app.app_context():
        assert AuditEvent.select().count() == 3
        assert AuditArchive.get().chain_hash == lines[-2]["chain_hash"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--archive", str(out)]).exit_code == 0
    # The archive file is protected too: a changed line fails its check.
    lines[1]["outcome"] = "failure"
    out.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert runner.invoke(args=["audit", "verify", "--archive", str(out)]).exit_code != 0
    # Deleting the first remaining row (right after the checkpoint) is still caught.
    with app.app_context():
        AuditEvent.delete().where(AuditEvent.seq == 5).execute()
        assert [(p.kind, p.seq) for p in verify().problems] == [("deleted", 5)]


def test_archive_refuses_dates_inside_the_retention_period(app, runner, tmp_path):
    _record(app, 2)
    recent = (utcnow() - timedelta(days=179)).date().isoformat()
    out = tmp_path / "a.jsonl"
    result = runner.invoke(args=["audit", "archive", "--before", recent, "--out", str(out)])
    assert result.exit_code != 0
    assert "180 days" in result.output
    assert not out.exists()
    with app.app_context():
        assert AuditEvent.select().count() == 2


def test_audit_rows_hold_no_personal_data_in_clear(app, client, runner, verified_citizen, machine_token):
    """Login, real name, a licence issued and shown, a signing key enrolled and used: scan every row."""
    holder = {"Authorization": "Bearer " + verified_citizen(vectors.ZHANG_SAN, vectors.PHONES[0])["access_token"]}
    licence = issue(client, {"Authorization": "Bearer " + machine_token("licences:issue")}, issue_body())
    present(client, holder, licence["id"])
    enrol(client, holder)
    sign(client, holder)
    runner.invoke(args=["audit", "seal"])
    with app.app_context():
        rows = [json.dumps({k: str(v) for k, v in r.__data__.items()}, ensure_ascii=False)
                for r in AuditEvent.select()]
    assert len(rows) >= 4
    text = "\n".join(rows)
    for secret in vectors.PHONES + vectors.ALL_ID_NUMBERS + [vectors.ZHANG_SAN[0]]:
        assert secret not in text
