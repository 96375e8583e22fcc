"""The walk's questions: what the engine asks the operator mid-walk, in a modal over the walk.

:class:`WalkQuestions` is the walk screen's part of the question flow (issue 9 split it
out of walk.py). The engine asks from its worker thread through the
:class:`~..bridge.EngineBridge`, which posts :class:`~..messages.QuestionAsked` and
blocks that thread; here, on the UI thread, the question opens in a dialog titled with
its step, and the answer (or the bridge's fallback when the operator does not know)
goes back through the box, which wakes the engine. The session records the answer.
"""

from __future__ import annotations

from ..bridge import fallback_answer
from ..messages import AnswerBox, QuestionAsked
from .dialogs import QuestionDialog
from .walk_part import WalkPart


class WalkQuestions(WalkPart):
    """The walk screen's side of a question: show it, hand the answer back to the waiting engine."""

    def on_question_asked(self, message: QuestionAsked) -> None:
        box = message.box
        step = self._planned.get(box.question.step)
        self.app.push_screen(
            QuestionDialog(box.question, self.state.lang, step.title if step else ""),
            lambda answer: self._answered(box, answer),
        )

    def _answered(self, box: AnswerBox, answer: str | None) -> None:
        value = answer if answer is not None else fallback_answer(box.question)
        box.answer(value)  # the session records the answer once the engine has it
