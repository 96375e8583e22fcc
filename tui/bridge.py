"""The TUI's sink of a Session: events become messages, questions a modal.

The engine calls ``on_event`` and ``ask`` from whatever thread runs it. The
bridge never touches a widget: it posts a message to the screen that owns the
walk and, for a question, blocks the engine's thread on a ``threading.Event``
until the UI thread hands the answer back. When the screen goes away every
pending question is answered ("unknown", or the last choice) so no engine
thread is left waiting and the app can exit.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from vnetdoctor.knowledge.model import Question
from vnetdoctor.session import EngineFactory as EngineFactory  # re-exported: the App's type
from vnetdoctor.session.core import SessionEvent, fallback_answer

from .messages import AnswerBox, EngineEventPosted, QuestionAsked

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

__all__ = ["EngineBridge", "EngineFactory", "fallback_answer"]


class EngineBridge:
    """The ``ask``/``on_event`` pair handed to the engine, bound to one screen."""

    def __init__(self, target: MessagePump) -> None:
        self._target = target
        self._pending: set[AnswerBox] = set()
        self._lock = threading.Lock()
        self._closed = False

    def on_event(self, event: SessionEvent) -> None:
        """A sink of the session, called from the engine's thread: hand the event to the UI thread."""
        if not self._closed:
            self._target.post_message(EngineEventPosted(event))

    def ask(self, question: Question) -> str:
        """Called from the engine's thread: show the question, wait for the operator's answer."""
        box = AnswerBox(question)
        with self._lock:
            if self._closed:
                return fallback_answer(question)
            self._pending.add(box)
        try:
            if not self._target.post_message(QuestionAsked(box)):
                return fallback_answer(question)
            box.event.wait()
            return box.value or fallback_answer(question)
        finally:
            with self._lock:
                self._pending.discard(box)

    def close(self) -> None:
        """Release every engine thread still waiting for an answer; later events are dropped."""
        with self._lock:
            self._closed = True
            pending = list(self._pending)
        for box in pending:
            box.answer(fallback_answer(box.question))

