"""What counsellors do, whatever staff channel they work in: answer in a case's place, claim,
close, choose the name people see, edit what they sent. The case desk keeps the case; the
conversation service reaches the person. Answers for the counsellor come back as text (English,
like every staff text), for the staff channel to show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.handover.case import Case, CaseState
from bot.handover.lifecycle import Closer
from bot.service.casedesk import CaseDesk, EarlierRelay, PersonNews
from bot.service.conversation import ConversationService
from bot.service.ports import (
    ChannelError,
    Content,
    Counsellor,
    NotShown,
    PersonAddress,
    PersonUnreachable,
    Unconfirmed,
)

log = logging.getLogger(__name__)

ALIAS_LIMIT = 32
UNCONFIRMED = (
    "⚠️ Not confirmed: Telegram did not answer, so this may or may not have reached the person. "
    "Ask them before you send it again."
)


class Counselling:
    def __init__(self, conversations: ConversationService, desk: CaseDesk) -> None:
        self.conversations = conversations
        self.desk = desk
        self.clock = conversations.clock

    async def counsellor_wrote(
        self, case: Case, content: Content, counsellor: Counsellor
    ) -> str | None:
        """A counsellor wrote in the case's place: a copy goes to the person. Returns what to
        tell the counsellor when it did not reach them (None: delivered)."""
        if case.state is CaseState.CLOSED or case.person is None:
            return "⚠️ Not delivered: this case is closed."
        earlier = await self.desk.earlier_relay(case.code, content.ref, from_person=False)
        if earlier is EarlierRelay.ARRIVED:
            return None  # the same update delivered again
        if earlier is EarlierRelay.IN_DOUBT:
            return UNCONFIRMED  # cut off by a restart, and it may have got there
        reply_to = None
        if content.reply_to is not None:
            reply_to = await self.desk.person_copy(case.code, content.reply_to)
        noting = self.desk.noting(case.code, content.ref, from_person=False)
        try:
            copied = await self.conversations.relay_to_person(
                case.person, content, reply_to, noting
            )
        except Unconfirmed:
            return UNCONFIRMED
        except ChannelError as error:
            await self.desk.end_relay(case.code, content.ref, from_person=False)
            return await self._not_delivered(case, error)
        if copied is None:
            await self.desk.end_relay(case.code, content.ref, from_person=False)
            return "⚠️ Not delivered: the person's chat has expired."
        news = await self.desk.counsellor_replied(
            case, copied, content.ref, counsellor, self.clock.now()
        )
        await self._tell(news)
        return None

    async def _not_delivered(self, case: Case, error: ChannelError) -> str | None:
        if isinstance(error, PersonUnreachable):
            assert case.person is not None
            await self.desk.close(case, Closer.BLOCKED, self.clock.now())
            await self.conversations.forget(case.person)
            return None
        if isinstance(error, NotShown):
            return f"⚠️ Not delivered: {error.detail}. Please write it as text."
        return f"⚠️ Not delivered ({error.detail}). Please send it again."

    async def claim(self, case: Case, counsellor: Counsellor) -> str:
        """The Claim button: returns the short answer for the counsellor."""
        if case.state is not CaseState.WAITING:
            return "Nothing to do: the case has moved on."
        await self._tell(await self.desk.claim(case, counsellor, self.clock.now()))
        return f"You have case {case.code}."

    async def close(self, case: Case, *, with_code: bool) -> str | None:
        """Closed by a counsellor (button or command); None if it was closed already."""
        if case.state is CaseState.CLOSED:
            return None
        news = await self.desk.close(case, Closer.COUNSELLOR, self.clock.now(), with_code=with_code)
        await self._tell(news)
        return f"Case {case.code} is closed."

    async def set_alias(self, counsellor: Counsellor, typed: str) -> str:
        alias = typed.strip()[:ALIAS_LIMIT]
        if not alias:
            return "Write /alias and the name people should see, e.g. /alias Mara"
        await self.desk.set_alias(counsellor, alias)
        return f"People will see you as {alias}."

    async def counsellor_edited(self, case: Case, ref: str, text: str) -> None:
        """An edited text of a counsellor's: mirrored to the person's copy if it was relayed."""
        if case.person is None:
            return
        copy = await self.desk.person_copy(case.code, ref)
        if copy is not None:
            await self.conversations.edit_for_person(case.person, copy, text)

    async def person_edited(self, person: PersonAddress, ref: str, text: str) -> None:
        """An edited text of the person's: mirrored to the staff copy if it was relayed."""
        case = await self.desk.case_of_person(self.conversations.key_of(person))
        if case is None or case.state is CaseState.CLOSED:
            return
        await self.desk.mirror_edit(case, ref, text)

    async def check_unclaimed(self) -> None:
        """The job: a person whose case nobody claimed in time is told, with the 24/7 numbers."""
        await self._tell(await self.desk.unclaimed(self.clock.now()))

    async def _tell(self, news: Sequence[PersonNews]) -> None:
        for key, item in news:
            await self.conversations.tell(key, item)
