"""The traffic of the fault tests: actors (threads, each with its own HTTP session) and the checks
on what they saw and on what the database holds afterwards."""
from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter

import requests

from tests.faults.conftest import Recorder
from tests.fixtures.cases import CHAIN, EVENTS, event
from tests.helpers import PROBLEM
from tests.wallet.conftest import MATTER, VERIFY, present_url


class Traffic:
    """The actors, each a thread with its own HTTP session, until `stop` is set."""

    def __init__(self, recorder: Recorder, *, holders: list, clerk: dict, dept: dict) -> None:
        self.rec, self.holders, self.clerk, self.dept = recorder, holders, clerk, dept
        self.stop = threading.Event()
        self.verify_results: dict[str, list[int]] = {}  # QR text → statuses of its verifications
        self.events_done: list[dict] = []  # bodies the department got a 2xx for
        self.events_open: list[dict] = []  # the one being retried, if any
        self.logins: list[float] = []  # end times of successful logins
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._presenter, args=(n, headers, licence), daemon=True)
                        for n, (headers, licence) in enumerate(holders)]
        self.threads += [threading.Thread(target=target, daemon=True)
                         for target in (self._rescanner, self._department, self._logins, self._probe)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        assert not any(t.is_alive() for t in self.threads), "an actor did not finish"

    def verified(self) -> list[str]:
        with self._lock:
            return [qr for qr, statuses in self.verify_results.items() if 200 in statuses]

    def _presenter(self, n: int, headers: dict, licence: str) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                shown = self.rec.call(session, f"holder{n}", "present", "POST", present_url(licence), json={},
                                      headers=headers)
                if shown.status != 201:
                    time.sleep(0.05)
                    continue
                qr = shown.body["qr_text"]
                checked = self.rec.call(session, "clerk", "verify", "POST", VERIFY, json={"qr_text": qr, "matter": MATTER},
                                        headers=self.clerk)
                with self._lock:
                    self.verify_results.setdefault(qr, []).append(checked.status)
                if checked.status == 503:  # the holder refreshes the code and shows it again
                    time.sleep(0.05)

    def _rescanner(self) -> None:
        """Someone scans codes already used, over and over: refused, or "try later" while Redis is down."""
        with requests.Session() as session:
            for n in itertools.count():
                used = self.verified()
                if self.stop.is_set():
                    return
                if not used:
                    time.sleep(0.05)
                    continue
                qr = used[n % len(used)]
                checked = self.rec.call(session, "rescanner", "verify", "POST", VERIFY, json={"qr_text": qr, "matter": MATTER},
                                        headers=self.clerk)
                with self._lock:
                    self.verify_results[qr].append(checked.status)
                time.sleep(0.02)

    def _department(self) -> None:
        with requests.Session() as session:
            for n in itertools.count():
                for seq, status in enumerate(CHAIN, start=1):
                    if self.stop.is_set():
                        return
                    body = event(seq, status, case_no=f"F-2026-{n:04d}", event_id=f"fault-{n:04d}-{seq}")
                    self.events_open = [body]
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:  # the same event_id and body until a 2xx
                        sent = self.rec.call(session, "department", "case_event", "POST", EVENTS, json=body,
                                             headers=self.dept)
                        if 200 <= sent.status < 300:
                            self.events_done.append(body)
                            self.events_open = []
                            time.sleep(0.01)
                            break
                        if sent.status not in (0, 503):
                            return  # a refusal: the assertions on answers report it
                        time.sleep(0.05)
                    else:
                        return

    def _logins(self) -> None:
        phones = (f"1350000{n:04d}" for n in itertools.count())
        with requests.Session() as session:
            while not self.stop.is_set():
                phone = next(phones)  # a fresh number each try: a resent code would wait out the cooldown
                if self._login(session, phone):
                    with self._lock:
                        self.logins.append(time.monotonic())
                time.sleep(0.05)

    def _login(self, session: requests.Session, phone: str) -> bool:
        if self.rec.call(session, "citizen", "sms_code", "POST", "/api/v1/auth/sms-codes",
                         json={"phone": phone}).status != 202:
            return False
        outbox = self.rec.call(session, "citizen", "sms_outbox", "GET", "/api/v1/dev/sms-outbox",
                               params={"phone": phone})
        if outbox.status != 200 or not outbox.body["items"]:
            return False
        code = outbox.body["items"][0]["code"]
        return self.rec.call(session, "citizen", "login", "POST", "/api/v1/auth/login",
                             json={"phone": phone, "code": code}).status == 200

    def _probe(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                self.rec.call(session, "kubelet", "readyz", "GET", "/readyz")
                time.sleep(0.1)


def assert_every_answer_clean(rec: Recorder, unavailable: tuple[str, ...] = ("service_unavailable",)) -> None:
    """Every request was answered; no 5xx but 503, and each 503 a problem+json with one of the
    `unavailable` codes and a Retry-After; nothing else but success and re-used codes refused."""
    assert not [a for a in rec.answers if a.status == 0], [a for a in rec.answers if a.status == 0][:3]
    assert not [a for a in rec.answers if a.status >= 500 and a.status != 503], [
        (a.what, a.status, a.body) for a in rec.answers if a.status >= 500 and a.status != 503][:3]
    for a in rec.answers:
        if a.status == 503 and a.what != "readyz":
            assert a.mimetype == PROBLEM and a.code in unavailable, (a.what, a.mimetype, a.body)
            assert a.retry_after and int(a.retry_after) >= 1, (a.what, a.code, a.retry_after)
    unexpected = Counter((a.what, a.status, a.code) for a in rec.answers
                         if a.status not in (200, 201, 202, 503)
                         and not (a.what == "verify" and a.code == "presentation_used"))
    assert not unexpected, unexpected


def assert_events_stored_once(rig, traffic: Traffic) -> None:
    """Every event the department got a 2xx for is stored once, applied, with its timeline entry,
    its outbox notice and its audit row; nothing else is stored."""
    sent = {body["event_id"]: body for body in traffic.events_done}
    expected = Counter(sent.keys())
    assert len(sent) >= 12 and not traffic.events_open, (len(sent), traffic.events_open)
    stored = Counter(r[0] for r in rig.query('SELECT "event_id" FROM "cases_event" WHERE "state" = ?', ("applied",)))
    assert stored == expected, "events lost or duplicated"
    assert rig.query('SELECT COUNT(*) FROM "cases_event" WHERE "state" <> ?', ("applied",))[0][0] == 0
    timeline = Counter(rig.query('SELECT c."case_no", t."seq" FROM "cases_timeline" t JOIN "cases_case" c '
                                 'ON c."id" = t."case_id" WHERE t."kind" = ?', ("status",)))
    assert timeline == Counter((b["case_no"], b["seq"]) for b in sent.values())
    notices = Counter(r[0].rsplit(":", 1)[1] for r in
                      rig.query('SELECT "dedupe_key" FROM "notify_outbox" WHERE "kind" = ?', ("case_status",)))
    assert notices == expected
    audited = Counter(json.loads(r[0])["event_id"] for r in rig.query(
        'SELECT "details" FROM "audit_event" WHERE "action" = ? AND "outcome" = ?', ("cases.event", "success")))
    assert audited == expected


