"""The recent part of a long conversation, which is all Rasa's policies and our actions need.

Stock Rasa rebuilds the states of the whole session for every prediction (Memoization, Rule and TED policies), copies
the tracker per action and sends all of it to the action server, so a turn's cost grows with the conversation. Yet
what decides a turn is short: the policies look back `max_history: 5` turns, the handoff packet 20 customer
messages, escalation.yml a few turns. So the tracker store hands Rasa a tracker that starts at a calm point (no form
active, the bot listening) at least KEEP_TURNS customer messages back. What happened before is summed up as Rasa's
own session start does it: the slots' values then, and `action_listen`. The events table keeps every event, and
`GET /conversations/<id>/tracker` still returns the whole history.

The tracker carries its `Window`: how many of its first events are that summary (never stored) and how many stored
events it leaves out, so the tracker store knows which events are new when Rasa saves it.
"""

from __future__ import annotations

import dataclasses

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

KEEP_TURNS = 20
"""Customer messages a shortened tracker keeps at least: the handoff packet's history (actions/handoff.py)."""
CUT_AFTER_TURNS = 30
"""Shorten only past this many, so a tracker is rebuilt once every ten messages, not on every one."""
_ATTRIBUTE = "_frontline_window"


@dataclasses.dataclass(frozen=True)
class Window:
    summary: int = 0
    """The first events of the tracker that sum up what it leaves out; they are not in the events table."""
    skipped: int = 0
    """Events of the stored session that come before the tracker's own."""

    def stored(self, tracker: DialogueStateTracker) -> int:
        """How many events the stored session holds when it holds exactly this tracker."""
        return len(tracker.events) - self.summary + self.skipped


def window_of(tracker: DialogueStateTracker) -> Window:
    return getattr(tracker, _ATTRIBUTE, Window())


def with_window(tracker: DialogueStateTracker, window: Window) -> DialogueStateTracker:
    setattr(tracker, _ATTRIBUTE, window)
    return tracker


def copied(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """Rasa's copy, which knows nothing of the window."""
    return with_window(tracker.copy(), window_of(tracker))


def shortened(
    tracker: DialogueStateTracker, keep_turns: int = KEEP_TURNS, cut_after_turns: int = CUT_AFTER_TURNS
) -> DialogueStateTracker | None:
    """The tracker from the latest calm point at least `keep_turns` customer messages back, or None when it has
    no more than `cut_after_turns` of them or no calm point after its first."""
    events = list(tracker.events)
    messages = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    if len(messages) <= cut_after_turns:
        return None
    latest_cut = messages[-keep_turns]
    replay = tracker.init_copy()
    cut: tuple[int, dict[str, object]] | None = None
    for index, event in enumerate(events[: latest_cut + 1]):
        if (
            isinstance(event, UserUttered)
            and replay.active_loop_name is None
            and replay.latest_action_name == ACTION_LISTEN_NAME
        ):
            cut = index, {name: slot.value for name, slot in replay.slots.items() if slot.value != slot.initial_value}
        replay.update(event)
    window = window_of(tracker)
    if cut is None or cut[0] <= messages[0]:  # it would leave no customer message out
        return None
    index, slots = cut
    at = events[index].timestamp
    summary: list[Event] = [SlotSet(name, value, timestamp=at) for name, value in slots.items()]
    summary.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=at))
    shorter = DialogueStateTracker.from_events(
        tracker.sender_id, summary + events[index:], list(tracker.slots.values())
    )
    shorter.model_id, shorter.assistant_id = tracker.model_id, tracker.assistant_id
    return with_window(shorter, Window(summary=len(summary), skipped=window.skipped + index - window.summary))
