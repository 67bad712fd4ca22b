"""The case lifecycle, pure: every transition, every refusal, the times and the counts."""

from __future__ import annotations

import ast
import dataclasses
import datetime
import pathlib
import subprocess
import sys

import pytest

from bot.dialogue import CaseNews, News, RequestHandover
from bot.handover import lifecycle
from bot.handover.case import Case, CaseState
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
    OutsideHours,
    PersonErased,
    Reopen,
    ReopenTopic,
    SaveReturnCode,
    ShowState,
    TellPerson,
    TopicGone,
    Unclaimed,
    UnlinkPerson,
    note_text,
    open_case,
    step_case,
)
from bot.stats import Counted
from bot.stats import Event as Statistic

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
OPENED = NOW - datetime.timedelta(hours=2)
POLICY = CasePolicy(idle_days=14, case_days=30, return_code_days=90, claim_minutes=15)
PERSON = b"pseudonym-of-the-person"
OTHER = b"pseudonym-of-another-chat"
CODE = "amber-otter-lemon-42"


def minutes(n: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def a_case(**changes: object) -> Case:
    case = Case(
        code="K7Q2",
        person=PERSON,
        team="Beratung",
        group="-100",
        place="7",
        language="ro",
        area="health",
        path=("start", "health.menu", "health.counsellor"),
        opened=OPENED,
        expires=OPENED + days(14),
        card="8",
    )
    return dataclasses.replace(case, **changes)  # type: ignore[arg-type]


def claimed_case(**changes: object) -> Case:
    fields: dict[str, object] = {
        "state": CaseState.CLAIMED,
        "alias": "Mara",
        "claimed": OPENED + minutes(3),
    }
    return a_case(**(fields | changes))


def closed_case(**changes: object) -> Case:
    fields: dict[str, object] = {
        "state": CaseState.CLOSED,
        "alias": "Mara",
        "claimed": OPENED + minutes(3),
        "replied": OPENED + minutes(4),
        "closed": OPENED + minutes(50),
        "told_nobody": True,
        "expires": OPENED + minutes(50) + days(30),
    }
    fields.update(changes)
    return a_case(**fields)


def an_opening(**changes: object) -> Opening:
    opening = Opening(
        person=PERSON,
        code="N3W5",
        team="Gesundheitsamt",
        group="-200",
        language="bg",
        area="law",
        path=("start", "law.menu", "law.counsellor"),
    )
    return dataclasses.replace(opening, **changes)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ opening


def test_a_first_request_opens_a_waiting_case_in_a_new_topic() -> None:
    case, effects = open_case(an_opening(), None, NOW, POLICY)
    assert case == Case(
        code="N3W5",
        person=PERSON,
        team="Gesundheitsamt",
        group="-200",
        place="",
        language="bg",
        area="law",
        path=("start", "law.menu", "law.counsellor"),
        opened=NOW,
        expires=NOW + days(14),
    )
    assert case.state is CaseState.WAITING
    assert not case.told_nobody
    assert effects == (OpenTopic(), TellPerson(News.OPENED, case="N3W5"))


def test_off_duty_the_person_hears_when_the_team_is_back_and_nothing_about_claiming() -> None:
    opening = an_opening(on_duty=False, back="Montag, 10:00 (Mitteleuropäische Zeit)")
    case, effects = open_case(opening, None, NOW, POLICY)
    assert case.told_nobody
    assert case.state is CaseState.WAITING
    assert effects == (
        OpenTopic(),
        TellPerson(
            News.OPENED_OUTSIDE_HOURS, detail="Montag, 10:00 (Mitteleuropäische Zeit)", case="N3W5"
        ),
    )
    # and the unclaimed job leaves it alone
    assert step_case(case, Unclaimed(), NOW + days(1), POLICY) == (case, ())


def test_off_duty_with_no_opening_in_sight_has_no_detail() -> None:
    _, effects = open_case(an_opening(on_duty=False), None, NOW, POLICY)
    assert effects[-1] == TellPerson(News.OPENED_OUTSIDE_HOURS, detail=None, case="N3W5")


def test_asking_again_reopens_the_kept_closed_case_in_its_old_topic() -> None:
    kept = closed_case()
    case, effects = open_case(an_opening(), kept, NOW, POLICY)
    # the kept case's own team, language, area and path; not the fresh code
    assert case == dataclasses.replace(
        kept,
        state=CaseState.WAITING,
        opened=NOW,
        expires=NOW + days(14),
        alias=None,
        claimed=None,
        replied=None,
        closed=None,
        told_nobody=False,
    )
    assert effects == (
        ReopenTopic(),
        ShowState(),
        Note(CaseNote.ASKED_AGAIN),
        ForgetReturnCodes(),
        TellPerson(News.OPENED, case="K7Q2"),
    )


def test_asking_again_off_duty_reopens_and_marks_the_person_told() -> None:
    case, effects = open_case(an_opening(on_duty=False, back="Mo"), closed_case(), NOW, POLICY)
    assert case.state is CaseState.WAITING
    assert case.told_nobody
    assert effects[-1] == TellPerson(News.OPENED_OUTSIDE_HOURS, detail="Mo", case="K7Q2")
    assert OpenTopic() not in effects


def test_asking_again_while_the_case_is_open_only_notes_it() -> None:
    kept = claimed_case()
    case, effects = open_case(an_opening(), kept, NOW, POLICY)
    assert case == kept
    assert effects == (Note(CaseNote.ASKED_AGAIN), TellPerson(News.OPENED, case="K7Q2"))


def test_asking_again_off_duty_while_claimed_marks_it_told_as_today() -> None:
    case, _ = open_case(an_opening(on_duty=False), claimed_case(), NOW, POLICY)
    assert case == claimed_case(told_nobody=True)


@pytest.mark.parametrize("left", [days(0), days(3)])
def test_an_expired_case_is_not_reopened_a_new_one_opens(left: datetime.timedelta) -> None:
    kept = closed_case(expires=NOW - left)
    case, effects = open_case(an_opening(), kept, NOW, POLICY)
    assert case.code == "N3W5"
    assert case.group == "-200"
    assert effects == (OpenTopic(), TellPerson(News.OPENED, case="N3W5"))


def test_an_opening_takes_language_area_and_path_from_the_request() -> None:
    request = RequestHandover(topic=None, language="ro", path=("start", "health.pap", "ask"))
    opening = Opening.of(
        request, person=PERSON, code="AB23", team="T", group="-5", on_duty=False, back="soon"
    )
    assert opening == Opening(
        person=PERSON,
        code="AB23",
        team="T",
        group="-5",
        language="ro",
        area="health",
        path=("start", "health.pap", "ask"),
        on_duty=False,
        back="soon",
    )


# ------------------------------------------------------------------------------------- reopen


def test_a_return_code_reopens_the_closed_case_for_whoever_has_it() -> None:
    kept = closed_case(person=None)  # the person had erased their chat, or writes from another
    case, effects = step_case(kept, Reopen(OTHER, CaseNote.RETURN_CODE_USED), NOW, POLICY)
    assert case.person == OTHER
    assert case.state is CaseState.WAITING
    assert case.opened == NOW
    assert case.expires == NOW + days(14)
    assert (case.alias, case.claimed, case.replied, case.closed) == (None, None, None, None)
    assert not case.told_nobody
    assert effects == (
        ReopenTopic(),
        ShowState(),
        Note(CaseNote.RETURN_CODE_USED),
        ForgetReturnCodes(),
        TellPerson(News.RESUMED, case="K7Q2"),
    )


def test_a_reopened_case_can_be_told_nobody_claimed_it_again() -> None:
    case, _ = step_case(closed_case(), Reopen(PERSON, CaseNote.RETURN_CODE_USED), NOW, POLICY)
    later, effects = step_case(case, Unclaimed(), NOW + minutes(15), POLICY)
    assert later.told_nobody
    assert effects[0] == Note(CaseNote.NOBODY_CLAIMED, minutes=15)


def test_a_return_code_for_a_case_still_open_notes_it_and_links_the_person() -> None:
    kept = claimed_case()
    case, effects = step_case(kept, Reopen(OTHER, CaseNote.RETURN_CODE_USED), NOW, POLICY)
    assert case == dataclasses.replace(kept, person=OTHER)
    assert effects == (Note(CaseNote.RETURN_CODE_USED), TellPerson(News.RESUMED, case="K7Q2"))


def test_asking_again_while_open_returns_the_very_same_case() -> None:
    kept = a_case()
    case, _ = step_case(kept, Reopen(PERSON, CaseNote.ASKED_AGAIN), NOW, POLICY)
    assert case is kept


def test_a_case_is_reopened_only_with_a_reopening_note() -> None:
    with pytest.raises(ValueError, match="person_left"):
        Reopen(PERSON, CaseNote.PERSON_LEFT)


# -------------------------------------------------------------------------------------- claim


def test_claiming_a_waiting_case() -> None:
    case, effects = step_case(a_case(), Claim("Mara"), NOW, POLICY)
    assert case == a_case(state=CaseState.CLAIMED, alias="Mara", claimed=NOW)
    assert effects == (
        ShowState(),
        Count(Statistic.HANDOVER_CLAIMED, "ro", "health"),
        TellPerson(News.CLAIMED, detail="Mara"),
    )


def test_without_an_alias_the_case_keeps_no_name_and_the_person_hears_none() -> None:
    case, effects = step_case(a_case(), Claim(None), NOW, POLICY)
    assert case.alias is None
    assert effects[-1] == TellPerson(News.CLAIMED, detail=None)


@pytest.mark.parametrize("case", [claimed_case(), closed_case()], ids=["claimed", "closed"])
def test_only_a_waiting_case_can_be_claimed(case: Case) -> None:
    after, effects = step_case(case, Claim("Ana"), NOW, POLICY)
    assert after is case
    assert effects == ()


# ------------------------------------------------------------------------------------ replies


@pytest.mark.parametrize(
    ("waited", "bucket"),
    [
        (minutes(4), "<5 min"),
        (minutes(5), "5-15 min"),
        (minutes(20), "15-60 min"),
        (minutes(90), "1-4 h"),
        (datetime.timedelta(hours=5), "4-24 h"),
        (datetime.timedelta(hours=25), ">24 h"),
    ],
)
def test_answering_a_waiting_case_counts_the_first_reply_and_claims_it(
    waited: datetime.timedelta, bucket: str
) -> None:
    case, effects = step_case(a_case(opened=NOW - waited), CounsellorReplied("Mara"), NOW, POLICY)
    assert case == a_case(
        opened=NOW - waited, state=CaseState.CLAIMED, alias="Mara", claimed=NOW, replied=NOW
    )
    assert effects == (
        Count(Statistic.FIRST_REPLY, "ro", bucket),
        ShowState(),
        Count(Statistic.HANDOVER_CLAIMED, "ro", "health"),
        TellPerson(News.CLAIMED, detail="Mara"),
    )


def test_the_first_reply_to_a_claimed_case_is_counted_and_nothing_else() -> None:
    kept = claimed_case()
    case, effects = step_case(kept, CounsellorReplied("Ana"), NOW, POLICY)
    assert case == dataclasses.replace(kept, replied=NOW)  # still Mara's
    assert effects == (Count(Statistic.FIRST_REPLY, "ro", "1-4 h"),)


def test_later_replies_change_nothing() -> None:
    kept = claimed_case(replied=OPENED + minutes(4))
    assert step_case(kept, CounsellorReplied("Mara"), NOW, POLICY) == (kept, ())


@pytest.mark.parametrize(
    "case", [closed_case(), a_case(person=None)], ids=["closed", "person gone"]
)
def test_a_reply_that_cannot_reach_anyone_counts_nothing(case: Case) -> None:
    after, effects = step_case(case, CounsellorReplied("Mara"), NOW, POLICY)
    assert after is case
    assert effects == ()


def test_the_first_reply_after_a_reopening_is_counted_again_from_the_reopening() -> None:
    reopened, _ = step_case(closed_case(), Reopen(PERSON, CaseNote.ASKED_AGAIN), NOW, POLICY)
    _, effects = step_case(reopened, CounsellorReplied("Mara"), NOW + minutes(7), POLICY)
    assert effects[0] == Count(Statistic.FIRST_REPLY, "ro", "5-15 min")


# -------------------------------------------------------------------------------------- close


def test_a_counsellor_closes_and_the_person_is_told() -> None:
    case, effects = step_case(claimed_case(), Close(Closer.COUNSELLOR), NOW, POLICY)
    assert case == claimed_case(state=CaseState.CLOSED, closed=NOW, expires=NOW + days(30))
    assert effects == (
        Count(Statistic.HANDOVER_COMPLETED, "ro", "health"),
        Note(CaseNote.CLOSED_BY_COUNSELLOR),
        ShowState(),
        CloseTopic(),
        TellPerson(News.CLOSED, detail=None),
    )


def test_closing_with_a_return_code_saves_it_first_and_gives_it_to_the_person() -> None:
    case, effects = step_case(a_case(), Close(Closer.COUNSELLOR, CODE), NOW, POLICY)
    assert case.state is CaseState.CLOSED
    assert case.expires == NOW + days(30)
    assert effects == (
        SaveReturnCode(CODE, NOW + days(90)),
        Count(Statistic.HANDOVER_COMPLETED, "ro", "health"),
        Note(CaseNote.CLOSED_WITH_RETURN_CODE),
        ShowState(),
        CloseTopic(),
        TellPerson(News.CLOSED, detail=CODE),
    )


def test_no_return_code_for_a_case_without_its_person() -> None:
    _, effects = step_case(a_case(person=None), Close(Closer.COUNSELLOR, CODE), NOW, POLICY)
    assert effects == (
        Count(Statistic.HANDOVER_COMPLETED, "ro", "health"),
        Note(CaseNote.CLOSED_BY_COUNSELLOR),
        ShowState(),
        CloseTopic(),
    )


@pytest.mark.parametrize(
    ("closer", "note"),
    [(Closer.PERSON, CaseNote.PERSON_ENDED), (Closer.BLOCKED, CaseNote.PERSON_BLOCKED)],
)
def test_a_case_the_person_ended_or_cannot_be_reached_in_closes_without_telling_them(
    closer: Closer, note: CaseNote
) -> None:
    case, effects = step_case(a_case(), Close(closer), NOW, POLICY)
    assert case == a_case(state=CaseState.CLOSED, closed=NOW, expires=NOW + days(30))
    assert case.person == PERSON  # still linked: they may ask again while it is kept
    assert effects == (
        Count(Statistic.HANDOVER_COMPLETED, "ro", "health"),
        Note(note),
        ShowState(),
        CloseTopic(),
    )


@pytest.mark.parametrize("closer", list(Closer))
def test_a_closed_case_is_not_closed_again(closer: Closer) -> None:
    case = closed_case()
    after, effects = step_case(case, Close(closer), NOW, POLICY)
    assert after is case
    assert effects == ()


@pytest.mark.parametrize("closer", [Closer.PERSON, Closer.BLOCKED])
def test_only_a_counsellor_closes_with_a_return_code(closer: Closer) -> None:
    with pytest.raises(ValueError, match="return code"):
        Close(closer, CODE)


# -------------------------------------------------------------------------------------- erase


def test_erasing_closes_an_open_case_neutrally_and_unlinks_the_person() -> None:
    case, effects = step_case(claimed_case(), PersonErased(PERSON), NOW, POLICY)
    assert case == claimed_case(
        state=CaseState.CLOSED, closed=NOW, expires=NOW + days(30), person=None
    )
    assert effects == (
        Count(Statistic.HANDOVER_COMPLETED, "ro", "health"),
        Note(CaseNote.PERSON_LEFT),
        ShowState(),
        CloseTopic(),
        ForgetReturnCodes(),
        UnlinkPerson(PERSON),
    )


def test_erasing_after_a_close_with_a_return_code_makes_the_code_stop_working() -> None:
    kept = closed_case()
    case, effects = step_case(kept, PersonErased(PERSON), NOW, POLICY)
    assert case == dataclasses.replace(kept, person=None)  # times unchanged
    assert effects == (ForgetReturnCodes(), UnlinkPerson(PERSON))


def test_erasing_can_delete_the_copies_in_the_staff_group() -> None:
    policy = dataclasses.replace(POLICY, erase_staff_copies=True)
    _, effects = step_case(closed_case(), PersonErased(PERSON), NOW, policy)
    assert effects == (ForgetReturnCodes(), DeleteStaffCopies(), UnlinkPerson(PERSON))


def test_erasing_a_case_someone_else_took_over_leaves_them_linked() -> None:
    kept = closed_case(person=OTHER)
    case, effects = step_case(kept, PersonErased(PERSON), NOW, POLICY)
    assert case.person == OTHER
    assert effects == (ForgetReturnCodes(), UnlinkPerson(PERSON))


# ---------------------------------------------------------------------------------- unclaimed


def test_nobody_claimed_a_case_in_time_the_person_is_told_once() -> None:
    case, effects = step_case(a_case(opened=NOW - minutes(15)), Unclaimed(), NOW, POLICY)
    assert case == a_case(opened=NOW - minutes(15), told_nobody=True)
    assert effects == (
        Note(CaseNote.NOBODY_CLAIMED, minutes=15),
        TellPerson(News.NOBODY_CLAIMED),
    )
    assert step_case(case, Unclaimed(), NOW + days(1), POLICY) == (case, ())


@pytest.mark.parametrize(
    "case",
    [
        a_case(opened=NOW - minutes(14.9)),
        a_case(told_nobody=True),
        claimed_case(),
        closed_case(told_nobody=False),
    ],
    ids=["too early", "told already", "claimed", "closed"],
)
def test_the_unclaimed_job_leaves_other_cases_alone(case: Case) -> None:
    after, effects = step_case(case, Unclaimed(), NOW, POLICY)
    assert after is case
    assert effects == ()


def test_nobody_claimed_a_case_without_its_person_only_the_staff_hear_of_it() -> None:
    case, effects = step_case(a_case(person=None), Unclaimed(), NOW, POLICY)
    assert case.told_nobody
    assert effects == (Note(CaseNote.NOBODY_CLAIMED, minutes=15),)


# --------------------------------------------------------------------- hours, topic gone


def test_outside_hours_marks_the_person_told() -> None:
    case, effects = step_case(a_case(), OutsideHours("Mo"), NOW, POLICY)
    assert case == a_case(told_nobody=True)
    assert effects == (TellPerson(News.OPENED_OUTSIDE_HOURS, detail="Mo", case="K7Q2"),)


def test_a_gone_topic_is_made_again_with_a_note() -> None:
    case = claimed_case()
    assert step_case(case, TopicGone(), NOW, POLICY) == (
        case,
        (OpenTopic(), Note(CaseNote.TOPIC_RECREATED)),
    )


@pytest.mark.parametrize("event", [OutsideHours("Mo"), TopicGone()])
def test_a_closed_case_has_no_hours_and_no_topic_to_remake(
    event: OutsideHours | TopicGone,
) -> None:
    case = closed_case()
    after, effects = step_case(case, event, NOW, POLICY)
    assert after is case
    assert effects == ()


# --------------------------------------------------------------------------- a whole case


def test_a_whole_case_counts_claimed_completed_and_the_first_reply_once() -> None:
    case, opened = open_case(an_opening(), None, NOW, POLICY)
    steps: list[tuple[CaseEvent, datetime.datetime]] = [
        (CounsellorReplied("Mara"), NOW + minutes(10)),
        (CounsellorReplied("Mara"), NOW + minutes(11)),
        (Claim("Ana"), NOW + minutes(12)),  # too late: answering claimed it
        (Close(Closer.COUNSELLOR, CODE), NOW + minutes(40)),
        (Close(Closer.PERSON), NOW + minutes(41)),
    ]
    effects = list(opened)
    for event, at in steps:
        case, more = step_case(case, event, at, POLICY)
        effects += more
    counted = [effect.counted for effect in effects if isinstance(effect, Count)]
    assert counted == [
        Counted(Statistic.FIRST_REPLY, "bg", "5-15 min"),
        Counted(Statistic.HANDOVER_CLAIMED, "bg", "law"),
        Counted(Statistic.HANDOVER_COMPLETED, "bg", "law"),
    ]
    told = [effect.case_news for effect in effects if isinstance(effect, TellPerson)]
    assert told == [
        CaseNews(News.OPENED, case="N3W5"),
        CaseNews(News.CLAIMED, detail="Mara"),
        CaseNews(News.CLOSED, detail=CODE),
    ]
    assert case.alias == "Mara"
    assert case.expires == NOW + minutes(40) + days(30)


# ------------------------------------------------------------------------------ staff texts


def test_notes_read_as_the_staff_group_has_them() -> None:
    assert note_text(Note(CaseNote.PERSON_LEFT)) == "The person has left the chat."
    assert note_text(Note(CaseNote.CLOSED_WITH_RETURN_CODE)) == (
        "Closed by a counsellor. The person got a return code."
    )
    assert note_text(Note(CaseNote.NOBODY_CLAIMED, minutes=15)) == (
        "Nobody claimed this case within 15 min; the person was told where to find help meanwhile."
    )
    assert note_text(Note(CaseNote.NOBODY_CLAIMED, minutes=7.5)).startswith(
        "Nobody claimed this case within 7.5 min;"
    )
    assert all(note_text(Note(kind, minutes=1)) for kind in CaseNote)


# ------------------------------------------------------------------------------------ purity


def test_events_and_effects_are_frozen_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Close(Closer.PERSON).closer = Closer.BLOCKED  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Note(CaseNote.PERSON_LEFT).kind = CaseNote.ASKED_AGAIN  # type: ignore[misc]
    assert len({ShowState(), ShowState(), UnlinkPerson(PERSON), UnlinkPerson(PERSON)}) == 2


def test_the_lifecycle_imports_no_channel_no_store_and_reads_no_clock() -> None:
    source = pathlib.Path(lifecycle.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert imported == {
        "__future__",
        "datetime",
        "dataclasses",
        "enum",
        "typing",
        "bot.dialogue",
        "bot.handover.case",
        "bot.stats",
    }
    for call in (".now(", "utcnow", ".today(", "time.monotonic", "secrets."):
        assert call not in source
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.handover.lifecycle; "
            "print(sorted(m for m in ('telegram', 'aiosqlite', 'aiohttp') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
