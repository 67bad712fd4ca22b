"""The case lifecycle as a pure function: `step_case(case, event, now, policy) -> (case, effects)`.

A case waits for a counsellor, is claimed (by the button or by answering), and is closed: by a
counsellor (perhaps with a return code for the person), by the person, or because the person
blocked the bot or erased the chat. A closed case that is still kept waits again when its person
asks for a counsellor or comes back with a return code.

Like the dialogue engine, this knows no channel, no store and no clock: `now` comes in, and so
does anything random (a new case code, a new return code). What is to be done comes back as
effects, in the order the case desk applies them; the new state of the case comes back as the
returned `Case`, which the desk saves when it differs (==) from the one it passed in. An event
that does not apply in the case's state (a claim of a closed case, a close of a closed case)
returns the case itself and no effects: the desk answers "nothing to do".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import assert_never

from bot.dialogue import CaseNews, News, RequestHandover
from bot.handover.case import Case, CaseState
from bot.stats import Counted, reply_bucket
from bot.stats import Event as Statistic

# ------------------------------------------------------------------------------------- kinds


class CaseNote(StrEnum):
    """What a note in the case's staff place says (the staff side words it)."""

    ASKED_AGAIN = "asked_again"
    RETURN_CODE_USED = "return_code_used"
    PERSON_ENDED = "person_ended"
    PERSON_LEFT = "person_left"  # /exit: neutral on purpose
    PERSON_BLOCKED = "person_blocked"
    CLOSED_BY_COUNSELLOR = "closed_by_counsellor"
    CLOSED_WITH_RETURN_CODE = "closed_with_return_code"
    NOBODY_CLAIMED = "nobody_claimed"  # with the minutes
    TOPIC_RECREATED = "topic_recreated"


class Closer(StrEnum):
    """Who or what closed a case (erasure is its own event: it does more than close)."""

    COUNSELLOR = "counsellor"
    PERSON = "person"  # the person ended the conversation
    BLOCKED = "blocked"  # the person blocked the bot: nothing reaches them any more


REOPENING_NOTES = frozenset({CaseNote.ASKED_AGAIN, CaseNote.RETURN_CODE_USED})


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """The numbers of bot.config.HandoverSetting (and one safety switch), as plain values."""

    idle_days: float  # an open or reopened case is kept this long
    case_days: float  # a closed case is kept this long
    return_code_days: float  # a return code leads back to its case this long
    claim_minutes: float  # nobody claimed it after this long: the person is told
    erase_staff_copies: bool = False  # /exit also deletes the person's copies in the staff place


# ------------------------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class Reopen:
    """The person asked for a counsellor again while their case is kept (ASKED_AGAIN), or came
    back with a return code (RETURN_CODE_USED). `person`: the pseudonym of their session now."""

    person: bytes
    note: CaseNote

    def __post_init__(self) -> None:
        if self.note not in REOPENING_NOTES:
            raise ValueError(f"a case is not reopened with the note {self.note}")


@dataclass(frozen=True, slots=True)
class Claim:
    """A counsellor claimed the case. `alias`: the name they chose (/alias), if any; without
    one, people and colleagues see "a counsellor" (their account's name is never kept)."""

    alias: str | None


@dataclass(frozen=True, slots=True)
class CounsellorReplied:
    """A counsellor's message reached the person. Answering a waiting case claims it."""

    alias: str | None


@dataclass(frozen=True, slots=True)
class Close:
    """`return_code`: a fresh one, when a counsellor closed with a code (only they can)."""

    closer: Closer
    return_code: str | None = None

    def __post_init__(self) -> None:
        if self.return_code is not None and self.closer is not Closer.COUNSELLOR:
            raise ValueError("only a counsellor closes a case with a return code")


@dataclass(frozen=True, slots=True)
class PersonErased:
    """/exit: `person` is the pseudonym of the session that was erased."""

    person: bytes


@dataclass(frozen=True, slots=True)
class Unclaimed:
    """The unclaimed-cases job looked at a waiting case."""


@dataclass(frozen=True, slots=True)
class OutsideHours:
    """The case opened while its team is off duty. `back`: when they are, in the person's
    language (None if no opening is in sight)."""

    back: str | None = None


@dataclass(frozen=True, slots=True)
class TopicGone:
    """The case's staff place was deleted (by a counsellor or an admin)."""


CaseEvent = (
    Reopen | Claim | CounsellorReplied | Close | PersonErased | Unclaimed | OutsideHours | TopicGone
)


# ----------------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class OpenTopic:
    """Make a new staff place for the case, with its card; the desk puts the place's ids into
    the returned case and saves it."""


@dataclass(frozen=True, slots=True)
class ReopenTopic:
    pass


@dataclass(frozen=True, slots=True)
class ShowState:
    """The card and the place's name show the case's new state."""


@dataclass(frozen=True, slots=True)
class Note:
    kind: CaseNote
    minutes: float | None = None  # NOBODY_CLAIMED: the claim time


@dataclass(frozen=True, slots=True)
class CloseTopic:
    pass


@dataclass(frozen=True, slots=True)
class TellPerson:
    """News for the person of the returned case. Within the person's own turn (opening, a return
    code) it is the event fed back to their engine; otherwise a turn of its own."""

    news: News
    detail: str | None = None
    case: str | None = None  # the case code, for OPENED, OPENED_OUTSIDE_HOURS and RESUMED

    @property
    def case_news(self) -> CaseNews:
        return CaseNews(self.news, case=self.case, detail=self.detail)


@dataclass(frozen=True, slots=True)
class Count:
    """One anonymous count. `area`: the topic area, or for FIRST_REPLY the waiting time's
    bucket."""

    event: Statistic
    language: str
    area: str

    @property
    def counted(self) -> Counted:
        return Counted(self.event, self.language, self.area)


@dataclass(frozen=True, slots=True)
class SaveReturnCode:
    """Keep (a digest of) `code` as leading back to the case until `expires`."""

    code: str
    expires: datetime.datetime


@dataclass(frozen=True, slots=True)
class ForgetReturnCodes:
    """Every return code of the case stops working."""


@dataclass(frozen=True, slots=True)
class DeleteStaffCopies:
    """Delete the copies of the person's messages in the staff place."""


@dataclass(frozen=True, slots=True)
class UnlinkPerson:
    """No case is linked to `person` any more (all of theirs, not only this one)."""

    person: bytes


CaseEffect = (
    OpenTopic
    | ReopenTopic
    | ShowState
    | Note
    | CloseTopic
    | TellPerson
    | Count
    | SaveReturnCode
    | ForgetReturnCodes
    | DeleteStaffCopies
    | UnlinkPerson
)

Step = tuple[Case, tuple[CaseEffect, ...]]


# ---------------------------------------------------------------------------------- opening


@dataclass(frozen=True, slots=True)
class Opening:
    """A person asked for a counsellor: what the desk found out (routing, office hours) and a
    fresh case code, which is used only if no kept case of theirs is reopened."""

    person: bytes
    code: str
    team: str
    group: str
    language: str
    area: str
    path: tuple[str, ...]
    on_duty: bool = True
    back: str | None = None  # off duty: when the team is back, in the person's language

    @classmethod
    def of(
        cls,
        request: RequestHandover,
        *,
        person: bytes,
        code: str,
        team: str,
        group: str,
        on_duty: bool = True,
        back: str | None = None,
    ) -> Opening:
        return cls(
            person=person,
            code=code,
            team=team,
            group=group,
            language=request.language,
            area=request.area,
            path=request.path,
            on_duty=on_duty,
            back=back,
        )


def open_case(
    opening: Opening, kept: Case | None, now: datetime.datetime, policy: CasePolicy
) -> Step:
    """The person's case after a request: `kept` (their latest case, if any) if it has not
    expired, reopened if closed and only noted if still open; else a new waiting case. Off duty
    the person is told when the team is back, and is not told again that nobody claimed it.

    As today, a kept case keeps its team, language, area and path, while office hours are those
    of the team the new request was routed to."""
    if kept is not None and kept.expires > now:
        case, effects = step_case(kept, Reopen(opening.person, CaseNote.ASKED_AGAIN), now, policy)
    else:
        case = Case(
            code=opening.code,
            person=opening.person,
            team=opening.team,
            group=opening.group,
            place="",
            language=opening.language,
            area=opening.area,
            path=opening.path,
            opened=now,
            expires=now + datetime.timedelta(days=policy.idle_days),
        )
        effects = (OpenTopic(),)
    if opening.on_duty:
        return case, (*effects, TellPerson(News.OPENED, case=case.code))
    case, told = step_case(case, OutsideHours(opening.back), now, policy)
    return case, (*effects, *told)


# ------------------------------------------------------------------------------------- steps


def step_case(case: Case, event: CaseEvent, now: datetime.datetime, policy: CasePolicy) -> Step:
    """The case after `event` at `now`, and what the desk has to do for it, in order."""
    match event:
        case Reopen():
            return _reopen(case, event, now, policy)
        case Claim(alias):
            if case.state is not CaseState.WAITING:
                return case, ()
            return _claim(case, alias, now)
        case CounsellorReplied(alias):
            return _replied(case, alias, now)
        case Close(closer, return_code):
            if case.state is CaseState.CLOSED:
                return case, ()
            return _close(case, closer, return_code, now, policy)
        case PersonErased(person):
            return _erased(case, person, now, policy)
        case Unclaimed():
            return _unclaimed(case, now, policy)
        case OutsideHours(back):
            if case.state is CaseState.CLOSED:
                return case, ()
            told = TellPerson(News.OPENED_OUTSIDE_HOURS, detail=back, case=case.code)
            return replace(case, told_nobody=True), _told(case, told)
        case TopicGone():
            if case.state is CaseState.CLOSED:
                return case, ()
            return case, (OpenTopic(), Note(CaseNote.TOPIC_RECREATED))
    assert_never(event)


def _reopen(case: Case, event: Reopen, now: datetime.datetime, policy: CasePolicy) -> Step:
    """A closed case waits for a counsellor again, as if new, in its old place; its return codes
    stop working. A case still open (the person's session had expired) only gets the note."""
    resumed: tuple[CaseEffect, ...] = ()
    if event.note is CaseNote.RETURN_CODE_USED:
        resumed = (TellPerson(News.RESUMED, case=case.code),)
    if case.state is not CaseState.CLOSED:
        # For ASKED_AGAIN the person is the case's own; whoever has the return code is its
        # person too.
        if case.person != event.person:
            case = replace(case, person=event.person)
        return case, (Note(event.note), *resumed)
    reopened = case.with_state(
        CaseState.WAITING,
        person=event.person,
        opened=now,
        alias=None,
        claimed=None,
        replied=None,
        closed=None,
        told_nobody=False,
        expires=now + datetime.timedelta(days=policy.idle_days),
    )
    return reopened, (ReopenTopic(), ShowState(), Note(event.note), ForgetReturnCodes(), *resumed)


def _claim(case: Case, alias: str | None, now: datetime.datetime) -> Step:
    claimed = case.with_state(CaseState.CLAIMED, alias=alias, claimed=now)
    return claimed, (
        ShowState(),
        Count(Statistic.HANDOVER_CLAIMED, case.language, case.area),
        *_told(case, TellPerson(News.CLAIMED, detail=alias)),
    )


def _replied(case: Case, alias: str | None, now: datetime.datetime) -> Step:
    """The first reply is counted once per opening, by how long the person waited for it."""
    if case.state is CaseState.CLOSED or case.person is None:
        return case, ()
    effects: tuple[CaseEffect, ...] = ()
    if case.replied is None:
        minutes = (now - case.opened).total_seconds() / 60
        effects = (Count(Statistic.FIRST_REPLY, case.language, reply_bucket(minutes)),)
        case = replace(case, replied=now)
    if case.state is CaseState.WAITING:  # answering is claiming
        case, claimed = _claim(case, alias, now)
        effects = (*effects, *claimed)
    return case, effects


def _close(
    case: Case,
    closer: Closer,
    return_code: str | None,
    now: datetime.datetime,
    policy: CasePolicy,
    note: CaseNote | None = None,
) -> Step:
    """Closed, kept for case_days. A counsellor's close tells the person, with the return code
    if one was asked for (none for a person who erased the chat)."""
    closed = case.with_state(
        CaseState.CLOSED,
        closed=now,
        expires=now + datetime.timedelta(days=policy.case_days),
    )
    if case.person is None:
        return_code = None
    saved: tuple[CaseEffect, ...] = ()
    if return_code is not None:
        expires = now + datetime.timedelta(days=policy.return_code_days)
        saved = (SaveReturnCode(return_code, expires),)
    if note is None:
        note = {
            Closer.COUNSELLOR: CaseNote.CLOSED_BY_COUNSELLOR
            if return_code is None
            else CaseNote.CLOSED_WITH_RETURN_CODE,
            Closer.PERSON: CaseNote.PERSON_ENDED,
            Closer.BLOCKED: CaseNote.PERSON_BLOCKED,
        }[closer]
    told: tuple[CaseEffect, ...] = ()
    if closer is Closer.COUNSELLOR:
        told = _told(case, TellPerson(News.CLOSED, detail=return_code))
    return closed, (
        *saved,
        Count(Statistic.HANDOVER_COMPLETED, case.language, case.area),
        Note(note),
        ShowState(),
        CloseTopic(),
        *told,
    )


def _erased(case: Case, person: bytes, now: datetime.datetime, policy: CasePolicy) -> Step:
    """/exit: the counsellors get a neutral note, the case is closed, its return codes stop
    working, and the person is no longer linked to any case."""
    effects: tuple[CaseEffect, ...] = ()
    if case.state is not CaseState.CLOSED:
        case, effects = _close(case, Closer.PERSON, None, now, policy, note=CaseNote.PERSON_LEFT)
    effects = (*effects, ForgetReturnCodes())
    if policy.erase_staff_copies:
        effects = (*effects, DeleteStaffCopies())
    if case.person == person:
        case = replace(case, person=None)
    return case, (*effects, UnlinkPerson(person))


def _unclaimed(case: Case, now: datetime.datetime, policy: CasePolicy) -> Step:
    """Waiting for claim_minutes, and the person was not told yet: tell them where to find help
    meanwhile (their engine adds the 24/7 numbers)."""
    due = case.opened <= now - datetime.timedelta(minutes=policy.claim_minutes)
    if case.state is not CaseState.WAITING or case.told_nobody or not due:
        return case, ()
    return replace(case, told_nobody=True), (
        Note(CaseNote.NOBODY_CLAIMED, minutes=policy.claim_minutes),
        *_told(case, TellPerson(News.NOBODY_CLAIMED)),
    )


def _told(case: Case, news: TellPerson) -> tuple[CaseEffect, ...]:
    """Only a case with a person can tell them anything."""
    return () if case.person is None else (news,)


# ------------------------------------------------------------------------------- staff texts

_NOTE_TEXTS = {
    CaseNote.ASKED_AGAIN: "The person asked for a counsellor again.",
    CaseNote.RETURN_CODE_USED: "The person came back with their return code.",
    CaseNote.PERSON_ENDED: "The person ended the conversation.",
    CaseNote.PERSON_LEFT: "The person has left the chat.",
    CaseNote.PERSON_BLOCKED: "The person has blocked the bot: nothing more can reach them.",
    CaseNote.CLOSED_BY_COUNSELLOR: "Closed by a counsellor.",
    CaseNote.CLOSED_WITH_RETURN_CODE: "Closed by a counsellor. The person got a return code.",
    CaseNote.NOBODY_CLAIMED: "Nobody claimed this case within {minutes:g} min; the person was "
    "told where to find help meanwhile.",
    CaseNote.TOPIC_RECREATED: "The old topic was gone; this is the case again.",
}


def note_text(note: Note) -> str:
    """Today's English wording of a note for the staff group (like the command line, staff
    texts are not translated). The staff adapter may take this over."""
    return _NOTE_TEXTS[note.kind].format(minutes=note.minutes or 0)
