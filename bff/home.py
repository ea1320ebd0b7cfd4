"""Home screen — 首页: one call for the app's first screen, fetched in parallel, tolerant of a slow part.

The parts (profile, licence cards, active cases, unread notices, the nearest open halls) run at
the same time on a shared thread pool, each inside an app context with its own database
connection (connections are per thread, app/db.py). Each part has a time budget
(`BFF_PART_BUDGET_MS`, per-part `BFF_PART_BUDGETS_MS`): a part that is late or fails is `null`
and named in `partial`, and the answer goes out without it — the app shows the rest and
retries later. The notices come from configuration and never degrade.

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
from app.db import db, unit_of_work, utcnow
from app.errors import AppError
from bff import models
from cases import service as cases
from identity import service as identity
from identity.service import AssuranceInsufficient
from mapsvc import service as halls
from notify import service as notify
from wallet import service as wallet

log = logging.getLogger(__name__)

STANDARD = ("profile", "licences", "cases", "unread_notifications", "nearby_halls")
ELDERLY = ("profile", "licences", "cases", "nearby_halls")
HOME_LICENCES = 10  # cards on the home screen; the wallet screen pages through the rest
HOME_CASES = 3
_CASE_WINDOW = 10  # latest cases looked at to find the active ones
_FINAL = frozenset({"delivered", "not_accepted", "withdrawn"})  # cases.statuses: no way onward
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


# --- Parts -----------------------------------------------------------------------------------

def _profile(query: HomeQuery) -> dict[str, Any]:
    view = identity.user_view(identity.get_user(query.user_id))
    return {"id": view["id"], "name_masked": view["name_masked"], "phone_masked": view["phone_masked"],
            "assurance_level": view["assurance_level"], "real_name_verified": view["real_name_verified"],
            "ncid_linked": view["ncid_linked"], "elderly_mode": query.elderly}


def _licences(query: HomeQuery) -> list[dict[str, Any]]:
    try:
        page = wallet.list_licences(user_id=query.user_id, limit=HOME_LICENCES)
    except AssuranceInsufficient:
        return []  # below L2 there is no wallet yet; `profile.assurance_level` tells the app why
    keys = ("id", "type_code", "type_name", "status", "status_label", "valid_until")
    if not query.elderly:
        keys += ("issuer_name", "summary")
    return [{k: card[k] for k in keys} for card in page["items"]]


def _cases(query: HomeQuery) -> list[dict[str, Any]]:
    try:
        page = cases.list_cases(user_id=query.user_id, limit=_CASE_WINDOW)
    except AssuranceInsufficient:
        return []
    # Active: still moving, or concluded and waiting for the citizen's 好差评.
    active = [c for c in page["items"] if c["status"] not in _FINAL or c["can_evaluate"]][:HOME_CASES]
    return [{"id": c["id"], "case_no": c["case_no"], "item_name": c["item_name"],
             "department_name": c["department_name"], "status": c["status"], "status_label": c["status_label"],
             "status_at": c["status_at"], "overdue": c["clock"]["overdue"], "can_evaluate": c["can_evaluate"]}
            for c in active]


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
    with app.app_context(), i18n.use(query.language):
        db.connect(reuse_if_open=True)
        try:
            return PARTS[name](query)
        finally:
            if not db.is_closed():
                db.close()  # back to the pool; the next part on this thread connects again


def budget_seconds(name: str) -> float:
    """The part's time budget from the configuration (parsed once at start-up, bff/conventions.py)."""
    budgets = current_app.extensions["bff_settings"].part_budgets_ms
    return budgets.get(name, current_app.config["BFF_PART_BUDGET_MS"]) / 1000


def _collect(futures: dict[str, Future], started: float) -> tuple[dict[str, Any], list[str]]:
    answer: dict[str, Any] = {}
    partial: list[str] = []
    for name, future in futures.items():
        budget = budget_seconds(name)
        try:
            answer[name] = future.result(timeout=max(0.0, started + budget - time.monotonic()))
            continue
        except FutureTimeout:
            future.cancel()  # not started yet: never runs; running: finishes in the background, unread
            log.warning("home part over budget", extra={"part": name, "budget_ms": round(budget * 1000)})
        except AppError as exc:
            log.warning("home part refused", extra={"part": name, "code": exc.code})
        except Exception as exc:  # a failing part degrades the screen, never the whole call
            log.warning("home part failed", extra={"part": name, "error": type(exc).__name__})
        answer[name] = None
        partial.append(name)
    return answer, partial


def home(*, user_id: str, ip: str, point: tuple[float, float] | None, answer_coord: str = "gcj02") -> dict[str, Any]:
    """The citizen's home screen: every part or `null` with its name in `partial`, within the
    slowest part's budget. Elderly mode (大字版) answers the simplified layout."""
    elderly = preferences(user_id=user_id)["elderly_mode"]
    query = HomeQuery(user_id=user_id, ip=ip, point=point, answer_coord=answer_coord, elderly=elderly,
                      language=i18n.language())
    names = [n for n in (ELDERLY if elderly else STANDARD) if n != "nearby_halls" or point is not None]
    app = current_app._get_current_object()
    started = time.monotonic()
    pool = _executor(app.config["BFF_HOME_WORKERS"])
    answer, partial = _collect({n: pool.submit(_run_part, app, n, query) for n in names}, started)
    answer.setdefault("nearby_halls", None)  # no location given: not asked, not partial
    answer["partial"] = partial
    if elderly:
        answer["layout"], answer["hints"] = "elderly", ELDERLY_HINTS
    else:
        answer["layout"] = "standard"
        answer["notices"] = current_app.extensions["bff_settings"].notices
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
