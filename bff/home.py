"""Home screen — 首页: one call for the app's first screen, tolerant of a slow or failing part.

The parts: profile, licence cards, active cases, unread notices, the nearest open halls. A part
that fails is `null` and named in `partial`, and the answer goes out without it — the app shows
the rest and retries later. The notices come from configuration and never degrade.

Where each part runs (issue 20, measured with bench/icount):
- The nearest halls wait on the map's Redis (its geo index and per-IP limit), which nothing else
  in this request needs: that part runs on a shared thread pool, at the same time as the others,
  within its time budget (`BFF_PART_BUDGET_MS`, per part `BFF_PART_BUDGETS_MS`): late, it is
  `null` and named in `partial`, and the answer does not wait for it.
- The other parts are one indexed read each of the request's own database, through the
  connection the request already holds (its token check and the display preferences went through
  it just before), and run inline, one after the other. The account is read once for all of them
  (the profile and the L2 check of the licences and the cases). A pool thread would have to check
  out a connection of its own, push an app context and hand the result back — more work than the
  read itself — and a database slow enough to miss a budget has already held this request at the
  preferences read: running these reads elsewhere would not keep the answer in time. One over its
  budget is kept and logged ("home part over budget") for the operators.

Elderly mode (大字版): a citizen's display preference; the home answer is then a simplified
payload (`layout: "elderly"`): licences, cases and the one nearest open hall, with text hints.
The interface language the citizen chose is kept beside it, so both follow them to another device.
"""
from __future__ import annotations

import enum
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app

from app import i18n
from app.clock import rfc3339
from app.db import db, unit_of_work, utcnow
from app.errors import AppError
from bff import models
from cases import service as cases
from identity import service as identity
from mapsvc import service as halls
from notify import service as notify
from orgs import service as orgs
from wallet import service as wallet

log = logging.getLogger(__name__)

STANDARD = ("profile", "licences", "cases", "unread_notifications", "nearby_halls")
ELDERLY = ("profile", "licences", "cases", "nearby_halls")
POOLED = frozenset({"nearby_halls"})  # the parts that wait on another system than the request's database
HOME_LICENCES = 10  # cards on the home screen; the wallet screen pages through the rest
HOME_CASES = 3
_CASE_WINDOW = 10  # latest cases looked at to find the active ones
# What the app's elderly layout applies (适老化: GB/T 37668 and the MIIT 适老化 rules ask for
# ≥ 1.5× text, large touch targets, high contrast and no secondary content).
ELDERLY_HINTS = {"font_scale": 1.5, "min_touch_target_dp": 60, "high_contrast": True, "voice_read_aloud": True}


@dataclass(frozen=True)
class HomeQuery:
    user_id: str
    ip: str  # the map's per-IP limit applies to the halls part
    point: tuple[float, float] | None  # GCJ-02 (lat, lng), None: no halls part
    answer_coord: str = "gcj02"
    elderly: bool = False
    language: str = "zh-CN"  # the request's, for labels made off the request's thread (app/i18n.py)
    # identity.home_profile of the citizen (read once for every part that needs it), or what reading it raised
    account: dict[str, Any] | Exception | None = None


# --- Parts -----------------------------------------------------------------------------------

def _account(query: HomeQuery) -> dict[str, Any]:
    if isinstance(query.account, Exception):
        raise query.account  # the part fails as it would have failed reading the account itself
    return query.account


def _verified(query: HomeQuery) -> bool:
    """L2 or above, as the wallet and the cases check it (an enterprise id: checked by the route)."""
    return orgs.is_enterprise_id(query.user_id) or _account(query)["verified_level"] >= 2


def _profile(query: HomeQuery) -> dict[str, Any]:
    view = _account(query)
    return {"id": view["id"], "name_masked": view["name_masked"], "phone_masked": view["phone_masked"],
            "assurance_level": view["assurance_level"], "real_name_verified": view["real_name_verified"],
            "ncid_linked": view["ncid_linked"], "elderly_mode": query.elderly}


def _licences(query: HomeQuery) -> list[dict[str, Any]]:
    if not _verified(query):
        return []  # below L2 there is no wallet yet; `profile.assurance_level` tells the app why
    cards = wallet.home_cards(user_id=query.user_id, limit=HOME_LICENCES, summary=not query.elderly)
    for card in cards:
        card["valid_until"] = card["valid_until"] and card["valid_until"].isoformat()
    return cards


def _cases(query: HomeQuery) -> list[dict[str, Any]]:
    if not _verified(query):
        return []
    # Active: still moving, or concluded and waiting for the citizen's 好差评 (among the latest few).
    active = cases.home_cases(user_id=query.user_id, window=_CASE_WINDOW, count=HOME_CASES)
    for case in active:
        case["status_at"] = case["status_at"] and rfc3339(case["status_at"])
    return active


def _unread(query: HomeQuery) -> int:
    return notify.unread_count(user_id=query.user_id)


def _nearby(query: HomeQuery) -> list[dict[str, Any]]:
    lat, lng = query.point
    found = halls.nearby(halls.NearbyQuery(lat=lat, lng=lng, limit=1 if query.elderly else 3, open_now=True,
                                           answer_coord=query.answer_coord), ip=query.ip)
    keys = ("id", "name", "address", "location", "distance_m", "open_now", "today", "queue")
    return [{k: hall[k] for k in keys} for hall in found["items"]]


PARTS: dict[str, Callable[[HomeQuery], Any]] = {
    "profile": _profile, "licences": _licences, "cases": _cases, "unread_notifications": _unread,
    "nearby_halls": _nearby,
}


# --- Running the parts -----------------------------------------------------------------------

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    """One pool per process, made on first use (after gunicorn's fork: threads do not survive it)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bff-home")
            _pool_pid = os.getpid()
        return _pool


def _run_part(app: Flask, name: str, query: HomeQuery) -> Any:
    """A pooled part, in an app context of its own. It opens a database connection only if it
    needs one (peewee connects on the first statement) and gives it back at the end."""
    with app.app_context(), i18n.use(query.language):
        try:
            return PARTS[name](query)
        finally:
            if not db.is_closed():
                db.close()  # back to the pool; the next part on this thread connects again


def budget_seconds(name: str) -> float:
    """The part's time budget from the configuration (parsed once at start-up, bff/conventions.py)."""
    budgets = current_app.extensions["bff_settings"].part_budgets_ms
    return budgets.get(name, current_app.config["BFF_PART_BUDGET_MS"]) / 1000


def _failed(name: str, exc: Exception) -> None:
    if isinstance(exc, AppError):
        log.warning("home part refused", extra={"part": name, "code": exc.code})
    else:  # a failing part degrades the screen, never the whole call
        log.warning("home part failed", extra={"part": name, "error": type(exc).__name__})


def _over_budget(name: str, budget: float) -> None:
    log.warning("home part over budget", extra={"part": name, "budget_ms": round(budget * 1000)})


def _inline(name: str, query: HomeQuery) -> tuple[bool, Any]:
    """Run a part in the request's thread: (True, its value) or (False, None) when it failed."""
    started = time.monotonic()
    try:
        value = PARTS[name](query)
    except Exception as exc:  # noqa: BLE001 — a failing part degrades the screen, never the whole call
        _failed(name, exc)
        return False, None
    budget = budget_seconds(name)
    if time.monotonic() - started > budget:
        _over_budget(name, budget)  # kept: the answer has waited for it already
    return True, value


def _pooled(name: str, future: Future, started: float) -> tuple[bool, Any]:
    """A pooled part's value, waiting at most until its budget from `started` is spent."""
    budget = budget_seconds(name)
    try:
        return True, future.result(timeout=max(0.0, started + budget - time.monotonic()))
    except FutureTimeout:
        future.cancel()  # not started yet: never runs; running: finishes in the background, unread
        _over_budget(name, budget)
    except Exception as exc:  # noqa: BLE001
        _failed(name, exc)
    return False, None


def _read_account(user_id: str) -> dict[str, Any] | Exception:
    try:
        return identity.home_profile(user_id)
    except Exception as exc:  # noqa: BLE001 — the parts that need the account fail with it
        return exc


def home(*, user_id: str, ip: str, point: tuple[float, float] | None, answer_coord: str = "gcj02") -> dict[str, Any]:
    """The citizen's home screen: every part or `null` with its name in `partial`; the pooled part
    (the halls) within its budget. Elderly mode (大字版) answers the simplified layout.

    The answer is plain JSON values, written as `schemas.HomeSchema` would dump them (dates ISO,
    times RFC 3339 China time, only the fields it declares): the route sends it as it is."""
    elderly = preferences(user_id=user_id)["elderly_mode"]
    names = [n for n in (ELDERLY if elderly else STANDARD) if n != "nearby_halls" or point is not None]
    query = HomeQuery(user_id=user_id, ip=ip, point=point, answer_coord=answer_coord, elderly=elderly,
                      language=i18n.language(), account=_read_account(user_id))
    started = time.monotonic()
    futures: dict[str, Future] = {}
    for name in names:
        if name in POOLED:
            app = current_app._get_current_object()
            futures[name] = _executor(app.config["BFF_HOME_WORKERS"]).submit(_run_part, app, name, query)
    answer: dict[str, Any] = {}
    partial: list[str] = []
    for name in names:
        ok, answer[name] = _pooled(name, futures[name], started) if name in futures else _inline(name, query)
        if not ok:
            partial.append(name)
    answer.setdefault("nearby_halls", None)  # no location given: not asked, not partial
    answer["partial"] = partial
    if elderly:
        answer["layout"], answer["hints"] = "elderly", ELDERLY_HINTS
    else:
        answer["layout"] = "standard"
        answer["notices"] = current_app.extensions["bff_settings"].home_notices
    return answer


# --- Display preferences (大字版, language) --------------------------------------------------------

class Keep(enum.Enum):
    """A preference a request did not name: it keeps its value (None is a value: the device's language)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def preferences(*, user_id: str) -> dict[str, Any]:
    """The citizen's display preferences; defaults when never set (language None: the device's)."""
    row = models.find_preference(user_id)
    if row is None:
        return {"elderly_mode": False, "language": None, "updated_at": None}
    return {"elderly_mode": bool(row.elderly_mode), "language": row.language, "updated_at": row.updated_at}


def set_preferences(*, user_id: str, elderly_mode: bool | None = None,
                    language: str | None | Keep = KEEP) -> dict[str, Any]:
    """Change the display preferences given (elderly_mode None and language KEEP: unchanged), keeping
    the others; one row per account. Returns them all as they now are."""
    changes: dict[str, Any] = {}
    if elderly_mode is not None:
        changes["elderly_mode"] = elderly_mode
    if language is not KEEP:
        changes["language"] = language
    if not changes:
        raise ValueError("no display preference to change")  # the schema asks for one at least
    with unit_of_work():
        models.save_preference(user_id=user_id, changes=changes, now=utcnow())
        return preferences(user_id=user_id)
