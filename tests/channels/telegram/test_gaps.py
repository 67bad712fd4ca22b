"""Which ids /exit and disappearing mode delete in a private chat: the recorded ones and the gaps
between them (ids count up by one per message there), never a kept one, never a wide gap."""

from __future__ import annotations

from bot.channels.telegram.person import GAP_FILLED, with_gaps


def test_the_ids_between_recorded_messages_are_deleted_too() -> None:
    assert with_gaps(["7", "3", "5"]) == ["3", "4", "5", "6", "7"]


def test_a_kept_message_between_them_stays() -> None:
    assert with_gaps(["3", "6"], keep=["5"]) == ["3", "4", "6"]


def test_a_gap_wider_than_a_crash_leaves_is_not_filled() -> None:
    far = 10 + GAP_FILLED + 1
    assert with_gaps(["10", str(far)]) == ["10", str(far)]
    assert len(with_gaps(["10", str(10 + GAP_FILLED)])) == GAP_FILLED + 1


def test_nothing_recorded_deletes_nothing() -> None:
    assert with_gaps([]) == []
