"""Pseudonyms, sealed addresses and the webhook secret, all derived from one deployment secret."""

from __future__ import annotations

import re

import pytest

from bot.store import AddressUnreadable, SecretKeys, WeakSecretError, generate_secret, log_tag

SECRET = "a test secret that is long enough: 0123456789"
OTHER_SECRET = "another test secret, also long enough: 98765"
CHAT_ID = 7391846250


@pytest.fixture
def keys() -> SecretKeys:
    return SecretKeys(SECRET)


def test_pseudonym_is_stable_for_one_secret_and_chat(keys):
    pseudonym = keys.pseudonym("telegram", str(CHAT_ID))
    assert len(pseudonym) == 32
    assert (
        pseudonym
        == keys.pseudonym("telegram", str(CHAT_ID))
        == SecretKeys(SECRET).pseudonym("telegram", str(CHAT_ID))
    )


def test_pseudonym_differs_for_another_secret(keys):
    assert keys.pseudonym("telegram", str(CHAT_ID)) != SecretKeys(OTHER_SECRET).pseudonym(
        "telegram", str(CHAT_ID)
    )


def test_pseudonym_differs_for_another_chat(keys):
    assert keys.pseudonym("telegram", str(CHAT_ID)) != keys.pseudonym("telegram", str(CHAT_ID + 1))


def test_short_secret_is_refused_naming_the_variable_but_not_the_secret():
    short = "hunter2-hunter2-hunter2-hunter2"  # 31 characters
    with pytest.raises(WeakSecretError) as refused:
        SecretKeys(short)
    message = str(refused.value)
    assert "WEGWEISER_SECRET_KEY" in message
    assert "32" in message
    assert short not in message
    assert "hunter2" not in message
    assert isinstance(refused.value, ValueError)


def test_secret_of_the_minimum_length_is_accepted():
    SecretKeys("x" * SecretKeys.MINIMUM_SECRET_LENGTH).pseudonym("telegram", str(CHAT_ID))


@pytest.mark.parametrize("chat_id", [CHAT_ID, 1, -1001234567890, 2**63 - 1])
def test_sealed_address_opens_to_the_chat_id(keys, chat_id):
    pseudonym = keys.pseudonym("telegram", str(chat_id))
    assert keys.open_address(keys.seal_address("telegram", str(chat_id), pseudonym), pseudonym) == (
        "telegram",
        str(chat_id),
    )


def test_sealed_address_does_not_show_the_chat_id(keys):
    sealed = keys.seal_address("telegram", str(CHAT_ID), keys.pseudonym("telegram", str(CHAT_ID)))
    assert str(CHAT_ID).encode() not in sealed
    assert CHAT_ID.to_bytes(8, "big") not in sealed
    assert CHAT_ID.to_bytes(8, "little") not in sealed


def test_sealing_twice_gives_different_bytes_of_one_length(keys):
    pseudonym = keys.pseudonym("telegram", str(CHAT_ID))
    first, second = (
        keys.seal_address("telegram", str(CHAT_ID), pseudonym),
        keys.seal_address("telegram", str(1), pseudonym),
    )
    assert first != keys.seal_address("telegram", str(CHAT_ID), pseudonym)
    assert len(first) == len(second)  # the length does not tell how many digits a chat id has


def test_address_does_not_open_with_another_secret(keys):
    pseudonym = keys.pseudonym("telegram", str(CHAT_ID))
    sealed = keys.seal_address("telegram", str(CHAT_ID), pseudonym)
    with pytest.raises(AddressUnreadable, match="WEGWEISER_SECRET_KEY"):
        SecretKeys(OTHER_SECRET).open_address(sealed, pseudonym)


def test_address_does_not_open_in_another_row(keys):
    sealed = keys.seal_address("telegram", str(CHAT_ID), keys.pseudonym("telegram", str(CHAT_ID)))
    with pytest.raises(AddressUnreadable):
        keys.open_address(sealed, keys.pseudonym("telegram", str(CHAT_ID + 1)))


@pytest.mark.parametrize(
    "damage",
    [
        lambda sealed: sealed[:-1] + bytes([sealed[-1] ^ 1]),
        lambda sealed: sealed[:20],
        lambda sealed: b"",
    ],
    ids=["flipped bit", "cut short", "empty"],
)
def test_damaged_address_does_not_open(keys, damage):
    pseudonym = keys.pseudonym("telegram", str(CHAT_ID))
    with pytest.raises(AddressUnreadable):
        keys.open_address(damage(keys.seal_address("telegram", str(CHAT_ID), pseudonym)), pseudonym)


def test_webhook_secret_is_stable_and_uses_only_characters_telegram_allows(keys):
    token = keys.webhook_secret()
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", token)
    assert token == SecretKeys(SECRET).webhook_secret()
    assert token != SecretKeys(OTHER_SECRET).webhook_secret()


def test_log_tag_follows_one_session_and_differs_for_the_next_session_of_one_chat(keys):
    pseudonym = keys.pseudonym("telegram", str(CHAT_ID))
    first = keys.seal_address("telegram", str(CHAT_ID), pseudonym)
    second = keys.seal_address("telegram", str(CHAT_ID), pseudonym)
    assert log_tag(first) == log_tag(first)
    assert re.fullmatch(r"[0-9a-f]{8}", log_tag(first))
    assert log_tag(first) != log_tag(second)
    assert pseudonym.hex()[:8] not in (log_tag(first), log_tag(second))


def test_generated_secret_is_strong_enough_and_new_each_time():
    secret = generate_secret()
    assert len(secret) >= SecretKeys.MINIMUM_SECRET_LENGTH
    assert secret != generate_secret()
    SecretKeys(secret).webhook_secret()


def test_keys_do_not_show_the_secret_when_printed(keys):
    assert SECRET not in repr(keys)
    assert "hidden" in repr(keys)
