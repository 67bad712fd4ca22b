"""The case desk: conversations between a person and the counsellors, whatever channels carry
them. It reaches counsellors only through the staff channel; what the person must hear it
hands back as news for the conversation service to tell.

Each case lives in one place of its team's staff channel (a forum topic), named with the case's
anonymous code, language and topic area ("K7Q2 · ro · health"), with a card as its first post.
Which copy is which is kept by ref (never content), so replies keep their threading and edits are
mirrored.

Texts for the staff side are English and live here: they are for the centre's staff, like the
command line; what a person reads is in flows/ and the catalogs.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import zoneinfo
from collections.abc import Sequence

from bot.config import HandoverSetting
from bot.dialogue import CaseNews, Event, News, RequestHandover, Session, TextTyped
from bot.handover.case import (
    Case,
    CaseState,
    new_case_code,
    new_return_code,
    normalised_return_code,
)
from bot.handover.teams import Team, format_back, route
from bot.service.ports import ChannelError, Content, Counsellor, PlaceGone, StaffChannel
from bot.service.statistics import Statistics
from bot.stats import Counted, reply_bucket
from bot.stats import Event as Statistic
from bot.store import CaseStore, SecretKeys, log_tag

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128
BLOCKED = "The person has blocked the bot: nothing more can reach them."
ASKED_AGAIN = "The person asked for a counsellor again."

PersonNews = tuple[bytes, CaseNews]
"""News for a person (by pseudonym), for the conversation service to tell in a turn of theirs."""


def topic_name(case: Case) -> str:
    parts = [case.code, case.language, case.area or "general"]
    if case.state is CaseState.CLAIMED and case.alias:
        parts.append(case.alias)
    name = " · ".join(parts)
    return (f"✔ {name}" if case.state is CaseState.CLOSED else name)[:TOPIC_NAME_LIMIT]


def card_text(case: Case, timezone: str) -> str:
    """The case card: what counsellors need to start, nothing that identifies the person."""
    zone = zoneinfo.ZoneInfo(timezone)
    since = case.opened.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    status = {
        CaseState.WAITING: "waiting for a counsellor",
        CaseState.CLAIMED: f"claimed by {case.alias or 'a counsellor'}",
        CaseState.CLOSED: "closed",
    }[case.state]
    return "\n".join(
        [
            f"Case {case.code}",
            f"Language: {case.language}",
            f"Topic area: {case.area or 'general'}",
            f"Path: {' → '.join(case.path) or '–'}",
            f"Waiting since: {since} ({timezone})",
            f"Status: {status}",
            "",
            "Write in this topic to answer; the person gets a copy. /close ends the case, "
            "/close code ends it with a return code for the person.",
        ]
    )


class CaseDesk:
    def __init__(
        self,
        store: CaseStore,
        staff: StaffChannel,
        keys: SecretKeys,
        teams: Sequence[Team],
        settings: HandoverSetting,
        timezone: str,
        statistics: Statistics,
        *,
        erase_staff_copies: bool = False,
    ) -> None:
        """`erase_staff_copies`: /exit also deletes the copies of the person's messages in the
        case's place (safety.erase_staff_copies)."""
        self.store = store
        self.staff = staff
        self.keys = keys
        self.teams = list(teams)
        self.settings = settings
        self.timezone = timezone
        self.statistics = statistics
        self.erase_staff_copies = erase_staff_copies

    # -- the person's side (in a turn of theirs) ---------------------------------------------------

    async def open(self, key: bytes, request: RequestHandover, now: datetime.datetime) -> CaseNews:
        """A new case in a new place, or the person's closed case reopened if it is still kept.
        Outside office hours the case opens all the same: the message waits in its place."""
        area = request.area
        team = route(self.teams, request.language, area)
        try:
            case = await self._reopened(key, now)
            if case is None:
                case = await self._new_case(key, request, team, area, now)
        except ChannelError as error:
            _failed("could not open a case", error)
            return CaseNews(News.UNAVAILABLE)
        if team.on_duty(now):
            return CaseNews(News.OPENED, case=case.code)
        await self.store.save_case(dataclasses.replace(case, told_nobody=True))
        back = team.back_at(now)
        detail = format_back(back, request.language) if back is not None else None
        return CaseNews(News.OPENED_OUTSIDE_HOURS, case=case.code, detail=detail)

    async def _new_case(
        self,
        key: bytes,
        request: RequestHandover,
        team: Team,
        area: str,
        now: datetime.datetime,
    ) -> Case:
        code = new_case_code(await self.store.case_codes())
        draft = Case(
            code=code,
            person=key,
            team=team.name,
            chat_id=team.chat_id,
            thread_id=0,
            language=request.language,
            area=area,
            path=request.path,
            opened=now,
            expires=now + datetime.timedelta(days=self.settings.idle_days),
        )
        case = await self._placed(draft)
        log.info("case opened", extra={"case": code, "person": log_tag(key), "team": team.name})
        return case

    async def _placed(self, case: Case) -> Case:
        """A (new) place for the case, with its card as the first post. Raises ChannelError."""
        placed = await self.staff.open(case, topic_name(case), card_text(case, self.timezone))
        await self.store.save_case(placed)
        return placed

    async def _reopened(self, key: bytes, now: datetime.datetime) -> Case | None:
        case = await self.store.case_of_person(key)
        if case is None or case.expires <= now:
            return None
        if case.state is not CaseState.CLOSED:  # still open (their session had expired)
            await self._note(case, ASKED_AGAIN)
            return case
        return await self._reopen(case, key, now, ASKED_AGAIN)

    async def _reopen(self, case: Case, key: bytes, now: datetime.datetime, note: str) -> Case:
        """A closed case waits for a counsellor again, in its old place (a new one if that is
        gone); a return code of it stops working. Raises ChannelError."""
        reopened = case.with_state(
            CaseState.WAITING,
            person=key,
            opened=now,
            alias=None,
            claimed=None,
            replied=None,
            closed=None,
            told_nobody=False,
            expires=now + datetime.timedelta(days=self.settings.idle_days),
        )
        try:
            await self.staff.reopen(case)
            await self._show_state(reopened)
            await self._note(reopened, note)
        except PlaceGone:
            reopened = await self._placed(reopened)
        await self.store.save_case(reopened)
        await self.store.forget_return_codes(case.code)
        return reopened

    async def relay_to_staff(self, code: str, content: Content) -> bool:
        """The person's content into the case's place. False if it did not get there."""
        case = await self.store.case(code)
        if case is None or case.state is CaseState.CLOSED:
            return False
        reply_to = None
        if content.reply_to is not None:
            reply_to = await self.store.staff_copy(code, content.reply_to)
        for attempt in range(2):
            try:
                copied = await self.staff.relay(case, content, reply_to)
            except PlaceGone as error:
                if attempt == 0:
                    case = await self._placed(case)  # a counsellor deleted the place
                    await self._note(case, "The old topic was gone; this is the case again.")
                    continue
                _failed("could not pass a message on", error, code)
                return False
            except ChannelError as error:
                _failed("could not pass a message on", error, code)
                return False
            await self.store.remember_relay(code, content.ref, copied, from_person=True)
            return True
        return False

    async def person_ended(self, code: str, now: datetime.datetime) -> None:
        case = await self.store.case(code)
        if case is not None and case.state is not CaseState.CLOSED:
            await self.close(case, "The person ended the conversation.", now=now)

    async def person_erased(self, key: bytes, code: str | None, now: datetime.datetime) -> None:
        """/exit: the counsellors get a neutral note, the case is closed, the person is no longer
        linked to it, and a return code of theirs stops working."""
        case = await self.store.case(code) if code else await self.store.case_of_person(key)
        if case is not None:
            if case.state is not CaseState.CLOSED:
                await self.close(case, "The person has left the chat.", now=now)
            await self.store.forget_return_codes(case.code)
            if self.erase_staff_copies:
                copies = await self.store.staff_copies(case.code)
                await self.staff.delete(case, copies)
        await self.store.forget_person(key)

    async def person_blocked(self, code: str, now: datetime.datetime) -> None:
        case = await self.store.case(code)
        if case is not None and case.state is not CaseState.CLOSED:
            await self.close(case, BLOCKED, now=now)

    async def returning(
        self, key: bytes, session: Session, event: Event, now: datetime.datetime
    ) -> Event:
        """A typed return code becomes the news that the person is back in their case."""
        if session.case is not None or not isinstance(event, TextTyped):
            return event
        typed = normalised_return_code(event.text)
        if typed is None:
            return event
        code = await self.store.case_of_return_code(self.keys.return_code_digest(typed), now)
        case = await self.store.case(code) if code else None
        if case is None:
            return event
        try:
            await self._reopen(case, key, now, "The person came back with their return code.")
        except ChannelError as error:
            _failed("could not reopen a case for its return code", error, case.code)
            return event
        log.info("case resumed with a return code", extra={"case": case.code})
        return CaseNews(News.RESUMED, case=case.code)

    # -- the staff side --------------------------------------------------------------------------

    async def case_in_place(self, chat_id: int, thread_id: int) -> Case | None:
        return await self.store.case_in_topic(chat_id, thread_id)

    async def case(self, code: str) -> Case | None:
        return await self.store.case(code)

    async def counsellor_replied(
        self,
        case: Case,
        person_ref: str,
        staff_ref: str,
        counsellor: Counsellor,
        now: datetime.datetime,
    ) -> list[PersonNews]:
        """A counsellor's message reached the person: remember which copy is which, count the
        first reply, and answering claims a waiting case."""
        await self.store.remember_relay(case.code, person_ref, staff_ref, from_person=False)
        if case.replied is None:
            minutes = (now - case.opened).total_seconds() / 60
            await self.statistics.count(
                [Counted(Statistic.FIRST_REPLY, case.language, reply_bucket(minutes))], now
            )
            case = dataclasses.replace(case, replied=now)
            await self.store.save_case(case)
        if case.state is CaseState.WAITING:
            return await self.claim(case, counsellor, now)
        return []

    async def claim(
        self, case: Case, counsellor: Counsellor, now: datetime.datetime
    ) -> list[PersonNews]:
        chosen = await self.store.alias(counsellor.id)
        claimed = case.with_state(CaseState.CLAIMED, alias=chosen or counsellor.name, claimed=now)
        await self.store.save_case(claimed)
        await self._show_state(claimed)
        await self.statistics.count(
            [Counted(Statistic.HANDOVER_CLAIMED, case.language, case.area)], now
        )
        if case.person is None:
            return []
        return [(case.person, CaseNews(News.CLAIMED, detail=chosen))]

    async def close(
        self,
        case: Case,
        why: str,
        *,
        now: datetime.datetime,
        by_counsellor: bool = False,
        code: bool = False,
    ) -> list[PersonNews]:
        """Close the case: a note in its place, the card and name updated, the place closed.
        Closed by a counsellor, the person is told (with a return code if asked for)."""
        closed = case.with_state(
            CaseState.CLOSED,
            closed=now,
            expires=now + datetime.timedelta(days=self.settings.case_days),
        )
        await self.store.save_case(closed)
        return_code = None
        if code and case.person is not None:
            return_code = new_return_code()
            expires = now + datetime.timedelta(days=self.settings.return_code_days)
            digest = self.keys.return_code_digest(return_code)
            await self.store.save_return_code(digest, case.code, expires)
        await self.statistics.count(
            [Counted(Statistic.HANDOVER_COMPLETED, case.language, case.area)], now
        )
        note = why if return_code is None else f"{why} The person got a return code."
        try:
            await self.staff.note(closed, note)
            await self._show_state(closed)
            await self.staff.close(closed)
        except ChannelError as error:
            _failed("could not close the topic", error, case.code)
        log.info("case closed", extra={"case": case.code})
        if by_counsellor and case.person is not None:
            return [(case.person, CaseNews(News.CLOSED, detail=return_code))]
        return []

    async def unclaimed(self, now: datetime.datetime) -> list[PersonNews]:
        """Cases nobody claimed in time: noted in their place; their persons are to be told,
        with the 24/7 numbers."""
        limit = now - datetime.timedelta(minutes=self.settings.claim_minutes)
        told: list[PersonNews] = []
        for case in await self.store.waiting_cases(opened_before=limit):
            await self.store.save_case(dataclasses.replace(case, told_nobody=True))
            await self._note(
                case,
                f"Nobody claimed this case within {self.settings.claim_minutes:g} min; the "
                "person was told where to find help meanwhile.",
            )
            if case.person is not None:
                told.append((case.person, CaseNews(News.NOBODY_CLAIMED)))
        return told

    async def set_alias(self, counsellor: Counsellor, alias: str) -> None:
        await self.store.set_alias(counsellor.id, alias)

    async def staff_copy(self, code: str, person_ref: str) -> str | None:
        return await self.store.staff_copy(code, person_ref)

    async def person_copy(self, code: str, staff_ref: str) -> str | None:
        return await self.store.person_copy(code, staff_ref)

    async def case_of_person(self, key: bytes) -> Case | None:
        return await self.store.case_of_person(key)

    # -- the case's place ------------------------------------------------------------------------

    async def _show_state(self, case: Case) -> None:
        """The card and the place's name say where the case is (edited on changes only)."""
        try:
            await self.staff.show(case, topic_name(case), card_text(case, self.timezone))
        except ChannelError as error:
            _failed("could not update a case card", error, case.code)

    async def _note(self, case: Case, text: str) -> None:
        try:
            await self.staff.note(case, text)
        except ChannelError as error:
            _failed("could not post a note", error, case.code)


def _failed(what: str, error: ChannelError, case: str | None = None) -> None:
    """A call to the staff channel failed: logged by kind, the case by its code only."""
    log.info(what, extra={"case": case, "error": error.kind, "detail": error.detail})
