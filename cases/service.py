"""What other features may use from cases (through this module only)."""
from __future__ import annotations

from cases.batch import receive_batch
from cases.citizen import get_case, list_cases
from cases.evaluation import answer_follow_up, evaluate, list_follow_ups
from cases.events import EventIn, EventResult, receive_event
from cases.tasks import attach_parked, send_evaluation_reminders

__all__ = ["EventIn", "EventResult", "answer_follow_up", "attach_parked", "evaluate", "get_case", "list_cases",
           "list_follow_ups", "receive_batch", "receive_event", "send_evaluation_reminders"]
