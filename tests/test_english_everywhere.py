"""Under `Accept-Language: en` no answer carries Chinese a person reads (issue 14 item 20).

The walk of tests/fixtures/walk.py (demo halls, a licence, a case with a 补正 and a poor rating,
notices, an appointment, a counter check) is repeated in English and every string value is
scanned for CJK characters. Only the keys below may hold Chinese, because they are proper names,
addresses, or words people and departments wrote themselves, which are shown as written.
"""
from __future__ import annotations

import re

from notify.tasks import NotifyWorker
from tests.fixtures.appointments import _auth, book
from tests.fixtures.walk import strings

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Last key of the dotted path → why it may stay Chinese.
NAMES_AND_ADDRESSES = {
    "name": "a person's, hall's, department's or service item's proper name",
    "name_masked": "a person's name, masked",
    "holder_name": "a person's name",
    "address": "a postal address",
    "item_name": "the department's name of the service item (a proper name from its catalogue)",
    "department_name": "a department's registered name",
    "issuer_name": "the issuing authority's registered name",
    "hall_name": "a hall's proper name",
    "comment": "the citizen's own words",
    "message": "the department's own words to the applicant",
    "answer": "the department's own words (差评 follow-up)",
}
# A licence's data (电子证照 fields: 性别 男, 国籍 中国, the issuing authority…) is the document's
# content as the authority issued and signed it, shown as on the paper licence; its field labels
# are translated. The catalogue's enum values are such data values (what issuers must send).
LICENCE_CONTENT = ("fields.", "summary.", "items.summary.", "licences.summary.")
LICENCE_VALUES = {"items.fields.enum"}
# A signed document's title, as the party asking for the signature wrote it.
DOCUMENT_TITLES = ("/api/v1/signing/",)
# A notice may quote such a title in its sentence, between “ ”: the quote is data, the sentence is not.
_QUOTED = re.compile(r"“[^”]*”")


def _offending(answers: dict) -> list[tuple[str, str, str]]:
    found = []
    for path, answer in answers.items():
        for key, text in strings(answer):
            if path == "/api/v1/notifications" and key.rsplit(".", 1)[-1] in ("title", "body"):
                text = _QUOTED.sub("“…”", text)
            if not _CJK.search(text) or key.rsplit(".", 1)[-1] in NAMES_AND_ADDRESSES or key in LICENCE_VALUES:
                continue
            if path.startswith(("/api/v1/wallet/licences", "/api/v1/bff/home")) and key.startswith(LICENCE_CONTENT):
                continue
            if path.startswith(DOCUMENT_TITLES) and key.rsplit(".", 1)[-1] == "title":
                continue
            found.append((path, key, text))
    return found


def test_no_chinese_labels_in_english_answers(walk):
    """Issue 14 item 20: e.g. `closed_reason: 休息日`, holiday names, status and tag labels were
    Chinese under `Accept-Language: en`."""
    answers = walk({"Accept-Language": "en"})
    assert len(answers) > 25
    kinds = {n["kind"] for n in answers["/api/v1/notifications"]["items"]}
    assert {"case_status", "evaluation_invite", "signing_security"} <= kinds
    assert _offending(answers) == []


def test_the_walk_does_see_chinese_in_chinese(walk):
    """The scan is not blind: the same walk in Chinese finds labels to translate."""
    chinese = {(path, key) for path, key, _ in _offending(walk({}))}
    assert {("/api/v1/cases/evaluation-tags", "items.tags.label"), ("/api/v1/notifications", "items.title"),
            ("/api/v1/cases/{case_id}", "status_label")} <= chinese  # closed reasons: test_appointments_slots.py


def test_an_appointment_reminder_reads_in_english(app, client, runner, make_hall, citizen):
    """Issue 14 item 20: the day-before reminder was Chinese only; the inbox shows its English."""
    make_hall()
    book(client, citizen)  # 2026-09-30 09:00; the clock stands at 2026-09-29 10:00
    assert runner.invoke(args=["appointments", "send-reminders"]).exit_code == 0
    NotifyWorker(app, channels={}).drain()
    english = {**_auth(citizen), "Accept-Language": "en"}
    [notice] = [n for n in client.get("/api/v1/notifications", headers=english).get_json()["items"]
                if n["kind"] == "appointment_reminder"]  # booking sends its own notice too
    assert notice["title"] == "Appointment reminder" and "2026-09-30 at 09:00 (China time)" in notice["body"]
    assert "title_en" not in notice["data"] and not _CJK.search(notice["title"] + notice["body"])
    [chinese] = [n for n in client.get("/api/v1/notifications", headers=_auth(citizen)).get_json()["items"]
                 if n["kind"] == "appointment_reminder"]
    assert chinese["title"] == "预约提醒"
