"""What the customer is asked after a conversation (CSAT, then the shop's further questions), and their answers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.store.records import Conversation, FeedbackAnswer

if TYPE_CHECKING:
    from bot.core.hub import Hub

logger = logging.getLogger(__name__)

RATING_BUTTONS = [{"title": f"{'★' * n} {n}", "payload": str(n)} for n in range(5, 0, -1)]
NPS_BUTTONS = [{"title": str(n), "payload": str(n)} for n in range(0, 11)]
FEEDBACK_PROMPTS = {
    "csat": ("How did {subject} do? Tap a rating (5 is best).", RATING_BUTTONS),
    "nps": (
        "How likely are you to recommend us to a friend? Tap 0 (not at all) to 10 (extremely likely).",
        NPS_BUTTONS,
    ),
}
"""What the customer is asked after a conversation, by question; the shop picks them with FEEDBACK_QUESTIONS.
`{subject}` is who is rated: "we" after a person helped, "the bot" when it finished alone."""


class FeedbackFlow:
    """The hub's questions after a conversation; answers are credited to the agent of the handoff they followed, or
    to the bot."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def rate(
        self,
        conversation: Conversation,
        score: int,
        comment: str | None,
        question: str = "csat",
        request_id: int | None = None,
    ) -> dict[str, Any] | None:
        """Store an answer to a question the customer was asked; then the shop's next question, or a thank-you."""
        answer = await self._hub.conversations.feedback.answer(conversation, question, score, comment, request_id)
        if answer is None:
            return None
        logger.info(
            "conversation=%s feedback question=%s score=%s agent=%s", conversation.id, question, score, answer.agent_id
        )
        questions = self._hub.settings.feedback_questions
        following = questions[questions.index(question) + 1 :] if question in questions else ()
        asked = following and await self.ask(conversation, "Thank you! One more question.", following[0], after=answer)
        if not asked:
            await self._hub.say(conversation, "system", "Thank you for your feedback!")
        return answer.to_json()

    async def ask(
        self,
        conversation: Conversation,
        lead: str,
        question: str | None = None,
        subject: str = "we",
        after: FeedbackAnswer | None = None,
    ) -> bool:
        question = question or self._hub.settings.feedback_questions[0]
        prompt, buttons = FEEDBACK_PROMPTS[question]
        text = f"{lead} {prompt.format(subject=subject)}"
        message = await self._hub.conversations.feedback.ask(conversation.id, text, question, buttons, after)
        if message is not None:
            await self._hub.publish_message(message)
        return message is not None
