"""The cases feature's public API: the only module another feature (or the routes) imports.

What it offers lives in the feature's rooms and is re-exported here:
- `events.py` / `batch.py`: a department's case events, one at a time or a backfill;
- `citizen.py`: the citizen's cases and their timeline; a department's view of one of its cases;
- `evaluation.py` / `tags.py`: 好差评 and its tag catalogue, the department's follow-ups of a 差评;
- `tasks.py`: parked cases attached at real-name verification, the 好差评 reminders.
"""
from __future__ import annotations

from cases.batch import event_from, receive_batch
from cases.citizen import department_case, get_case, home_cases, list_cases
from cases.evaluation import answer_follow_up, evaluate, list_follow_ups
from cases.events import EventIn, EventResult, receive_event
from cases.tags import catalogue as evaluation_tags
from cases.tasks import attach_parked, send_evaluation_reminders

__all__ = ["EventIn", "EventResult", "answer_follow_up", "attach_parked", "department_case", "evaluate",
           "evaluation_tags", "event_from", "get_case", "home_cases", "list_cases", "list_follow_ups", "receive_batch",
           "receive_event", "send_evaluation_reminders"]
