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

import datetime
import logging
import zoneinfo
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from enum import Enum

from bot.dialogue import CaseNews, Event, News, RequestHandover, Session, TextTyped
from bot.handover.case import (
    Case,
    CaseState,
    new_case_code,
    new_return_code,
    normalised_return_code,
)
from bot.handover.lifecycle import (
    CaseEvent,
    CaseNote,
    CasePolicy,
    Claim,
    Close,
    Closer,
    CloseTopic,
    CounsellorReplied,
    Count,
    DeleteStaffCopies,
    ForgetReturnCodes,
    Note,
    Opening,
    OpenTopic,
    PersonErased,
    Reopen,
    ReopenTopic,
    SaveReturnCode,
    ShowState,
    Step,
    TellPerson,
    TopicGone,
    Unclaimed,
    UnlinkPerson,
    note_text,
    open_case,
    step_case,
)
from bot.handover.teams import Team, format_back, route
from bot.service.locks import Locks
from bot.service.ports import (
    ChannelError,
    Content,
    Counsellor,
    Noting,
    PlaceGone,
    StaffChannel,
    Unconfirmed,
)
from bot.service.statistics import Statistics
from bot.store import CaseStore, SecretKeys

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128

PersonNews = tuple[bytes, CaseNews]
"""News for a person (by pseudonym), for the conversation service to tell in a turn of theirs."""


class EarlierRelay(Enum):
    """What became of a relay of the same message before (an update delivered again)."""

    NONE = "none"  # new: relay it
    ARRIVED = "arrived"  # its copy is on record: nothing to do
    IN_DOUBT = "in doubt"  # it left but was never recorded (a crash): it may have arrived


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
    """Applies the case lifecycle (bot.handover.lifecycle): it decides, the desk carries its
    effects out against the store, the staff channel and the counters."""

    def __init__(
        self,
        store: CaseStore,
        staff: StaffChannel,
        keys: SecretKeys,
        teams: Sequence[Team],
        policy: CasePolicy,
        timezone: str,
        statistics: Statistics,
    ) -> None:
        self.store = store
        self.staff = staff
        self.keys = keys
        self.teams = list(teams)
        self.policy = policy
        self.timezone = timezone
        self.statistics = statistics
        self._locks: Locks[str] = Locks()

    # -- the person's side (in a turn of theirs) ---------------------------------------------------

    async def open(self, key: bytes, request: RequestHandover, now: datetime.datetime) -> CaseNews:
        """A new case in a new place, or the person's kept case again. Outside office hours the
        case opens all the same: the message waits in its place."""
        team = route(self.teams, request.language, request.area)
        back = None if team.on_duty(now) else team.back_at(now)
        opening = Opening.of(
            request,
            person=key,
            code=new_case_code(await self.store.case_codes()),
            team=team.name,
            group=team.group,
            on_duty=team.on_duty(now),
            back=format_back(back, request.language) if back is not None else None,
        )
        kept = await self.store.case_of_person(key)
        try:
            case, news = await self._apply(kept, open_case(opening, kept, now, self.policy), now)
        except ChannelError as error:
            _failed("could not open a case", error)
            return CaseNews(News.UNAVAILABLE)
        if kept is None or kept.code != case.code:
            # by its code only: with the person's tag, the log would link the case to their turns
            log.info("case opened", extra={"case": case.code, "team": team.name})
        return news[-1] if news else CaseNews(News.OPENED, case=case.code)

    async def relay_to_staff(
        self, code: str, content: Content, now: datetime.datetime
    ) -> News | None:
        """The person's content into the case's place, once: None when it got there (or had got
        there before, for an update delivered again), else what the person is told."""
        case = await self.store.case(code)
        if case is None or case.state is CaseState.CLOSED:
            return News.NOT_DELIVERED
        earlier = await self.earlier_relay(code, content.ref, from_person=True)
        if earlier is EarlierRelay.ARRIVED:
            return None
        if earlier is EarlierRelay.IN_DOUBT:
            log.warning("a relay cut off by a restart is not repeated", extra={"case": code})
            return News.UNCONFIRMED
        reply_to = None
        if content.reply_to is not None:
            reply_to = await self.store.staff_copy(code, content.reply_to)
        noting = self.noting(code, content.ref, from_person=True)
        for attempt in range(2):
            try:
                copied = await self.staff.relay(case, content, reply_to, noting)
            except Unconfirmed as error:
                _failed("a message passed on got no answer", error, code)
                return News.UNCONFIRMED
            except ChannelError as error:
                if attempt == 0 and isinstance(error, PlaceGone):  # a counsellor deleted it
                    try:
                        case, _ = await self._step(case, TopicGone(), now)
                    except ChannelError as again:
                        error = again
                    else:
                        continue
                _failed("could not pass a message on", error, code)
                break
            await self.store.remember_relay(code, content.ref, copied, from_person=True)
            return None
        await self.end_relay(code, content.ref, from_person=True)
        return News.NOT_DELIVERED

    # -- relays once, both ways (`source`: the message's ref on its sender's side) -------------

    async def earlier_relay(self, code: str, source: str, *, from_person: bool) -> EarlierRelay:
        copy = self.store.staff_copy if from_person else self.store.person_copy
        if await copy(code, source) is not None:
            return EarlierRelay.ARRIVED
        if await self.store.relay_begun(code, source, from_person=from_person):
            return EarlierRelay.IN_DOUBT
        return EarlierRelay.NONE

    def noting(self, code: str, source: str, *, from_person: bool) -> Noting:
        """For the channel to call just before the copy leaves (see CaseStore.begin_relay)."""

        async def note() -> None:
            await self.store.begin_relay(code, source, from_person=from_person)

        return note

    async def end_relay(self, code: str, source: str, *, from_person: bool) -> None:
        """The relay did not leave, or failed for certain: a repeat may send it."""
        await self.store.end_relay(code, source, from_person=from_person)

    async def person_ended(self, code: str, now: datetime.datetime) -> None:
        await self._event_of_case(code, Close(Closer.PERSON), now)

    async def person_blocked(self, code: str, now: datetime.datetime) -> None:
        await self._event_of_case(code, Close(Closer.BLOCKED), now)

    async def person_erased(self, key: bytes, code: str | None, now: datetime.datetime) -> None:
        """/exit: the counsellors get a neutral note, the case is closed, the person is no longer
        linked to it, and a return code of theirs stops working."""
        case = await self.store.case(code) if code else await self.store.case_of_person(key)
        if case is None:
            await self.store.forget_person(key)
            return
        await self._step(case, PersonErased(key), now)

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
            _, news = await self._step(case, Reopen(key, CaseNote.RETURN_CODE_USED), now)
        except ChannelError as error:
            _failed("could not reopen a case for its return code", error, case.code)
            return event
        log.info("case resumed with a return code", extra={"case": case.code})
        return news[-1][1] if news else CaseNews(News.RESUMED, case=case.code)

    # -- the staff side --------------------------------------------------------------------------

    async def case_in_place(self, group: str, place: str) -> Case | None:
        return await self.store.case_in_place(group, place)

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
        alias = await self.store.alias(self.keys.counsellor_digest(counsellor.id))
        _, news = await self._step(case, CounsellorReplied(alias), now)
        return news

    async def claim(
        self, case: Case, counsellor: Counsellor, now: datetime.datetime
    ) -> list[PersonNews]:
        alias = await self.store.alias(self.keys.counsellor_digest(counsellor.id))
        _, news = await self._step(case, Claim(alias), now)
        return news

    async def close(
        self, case: Case, closer: Closer, now: datetime.datetime, *, with_code: bool = False
    ) -> list[PersonNews]:
        """Close the case: a note in its place, the card and name updated, the place closed.
        Closed by a counsellor, the person is told (with a return code if asked for)."""
        code = new_return_code() if with_code else None
        _, news = await self._step(case, Close(closer, code), now)
        return news

    async def unclaimed(self, now: datetime.datetime) -> list[PersonNews]:
        """Cases nobody claimed in time: noted in their place; their persons are to be told,
        with the 24/7 numbers."""
        limit = now - datetime.timedelta(minutes=self.policy.claim_minutes)
        told: list[PersonNews] = []
        for case in await self.store.waiting_cases(opened_before=limit):
            _, news = await self._step(case, Unclaimed(), now)
            told.extend(news)
        return told

    async def set_alias(self, counsellor: Counsellor, alias: str) -> None:
        await self.store.set_alias(self.keys.counsellor_digest(counsellor.id), alias)

    async def mirror_edit(self, case: Case, person_ref: str, text: str) -> None:
        """The person edited a message: its copy in the case's place shows the new text."""
        copy = await self.store.staff_copy(case.code, person_ref)
        if copy is not None:
            await self.staff.edit(case, copy, text)

    async def person_copy(self, code: str, staff_ref: str) -> str | None:
        return await self.store.person_copy(code, staff_ref)

    async def case_of_person(self, key: bytes) -> Case | None:
        return await self.store.case_of_person(key)

    # -- carrying out the lifecycle's effects ----------------------------------------------------

    async def _event_of_case(self, code: str, event: CaseEvent, now: datetime.datetime) -> None:
        case = await self.store.case(code)
        if case is not None:
            await self._step(case, event, now)

    async def _step(
        self, case: Case, event: CaseEvent, now: datetime.datetime
    ) -> tuple[Case, list[PersonNews]]:
        """The event on the case as the store holds it now, one event of a case at a time: a
        counsellor's close read just before the person's /exit must not link them again."""
        async with self._locks.of(case.code):
            current = await self.store.case(case.code)
            if current is None:  # expired meanwhile
                return case, []
            case = current
            step = step_case(case, event, now, self.policy)
            case_after, news = await self._apply(case, step, now)
        if case.state is not CaseState.CLOSED and case_after.state is CaseState.CLOSED:
            log.info("case closed", extra={"case": case.code})
        person = case_after.person or case.person
        return case_after, [(person, item) for item in news if person is not None]

    async def _apply(
        self, before: Case | None, step: Step, now: datetime.datetime
    ) -> tuple[Case, list[CaseNews]]:
        """Carry out the effects in order; the case is saved first (a crash in between leaves
        its new state, not a half-done old one) and again once it has a new place. Only the
        opening of a place raises ChannelError; every other staff call that fails is logged."""
        case, effects = step
        if case != before:
            await self.store.save_case(case)
        told: list[CaseNews] = []
        placed_anew = False
        for effect in effects:
            match effect:
                case OpenTopic():
                    case = await self._placed(case)
                    placed_anew = True
                case ReopenTopic():
                    try:
                        await self.staff.reopen(case)
                    except PlaceGone:
                        case = await self._placed(case)  # deleted meanwhile: a new one
                        placed_anew = True
                case ShowState() if not placed_anew:  # a new card shows the state already
                    await self._show_state(case)
                case ShowState():
                    pass
                case Note():
                    await self._note(case, note_text(effect))
                case CloseTopic():
                    await self._call("could not close the topic", self.staff.close(case), case)
                case TellPerson():
                    # with the case's code: a person is told only of the case they are in
                    told.append(replace(effect.case_news, case=effect.case or case.code))
                case Count():
                    await self.statistics.count([effect.counted], now)
                case SaveReturnCode(code=code, expires=expires):
                    digest = self.keys.return_code_digest(code)
                    await self.store.save_return_code(digest, case.code, expires)
                case ForgetReturnCodes():
                    await self.store.forget_return_codes(case.code)
                case DeleteStaffCopies():
                    await self.staff.delete(case, await self.store.staff_copies(case.code))
                case UnlinkPerson(person=person):
                    await self.store.forget_person(person)
        return case, told

    async def _placed(self, case: Case) -> Case:
        """A (new) place for the case, with its card as the first post. Raises ChannelError."""
        placed = await self.staff.open(case, topic_name(case), card_text(case, self.timezone))
        await self.store.save_case(placed)
        return placed

    async def _show_state(self, case: Case) -> None:
        """The card and the place's name say where the case is (edited on changes only)."""
        shown = self.staff.show(case, topic_name(case), card_text(case, self.timezone))
        await self._call("could not update a case card", shown, case)

    async def _note(self, case: Case, text: str) -> None:
        await self._call("could not post a note", self.staff.note(case, text), case)

    @staticmethod
    async def _call(what: str, call: Awaitable[None], case: Case) -> None:
        try:
            await call
        except ChannelError as error:
            _failed(what, error, case.code)


def _failed(what: str, error: ChannelError, case: str | None = None) -> None:
    """A call to the staff channel failed: logged by kind, the case by its code only."""
    log.info(what, extra={"case": case, "error": error.kind, "detail": error.detail})
