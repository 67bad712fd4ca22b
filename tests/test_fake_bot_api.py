"""The fake Bot API server, driven by the real python-telegram-bot ``Bot``."""

import asyncio
import time

import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    MessageId,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fake_bot_api import CONTENT_EXAMPLES, FakeBotAPI, Person

ALICE = Person(1001, "Alice", username="alice", language_code="de")
GROUP = {"id": -100123, "type": "supergroup", "title": "Counsellors"}
FORUM = {"id": -100456, "type": "supergroup", "title": "Cases", "is_forum": True}
CARLA = Person(2002, "Carla", username="carla_counsellor")
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="yes"),
            InlineKeyboardButton("No", callback_data="no"),
        ]
    ]
)


@pytest.fixture
async def server():
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def bot(server):
    async with Bot(server.token, base_url=server.base_url) as real_bot:
        yield real_bot


async def first_update(bot, server) -> Update:
    """Fetches and confirms exactly one update."""
    (update,) = await bot.get_updates(timeout=1)
    await bot.get_updates(offset=update.update_id + 1)
    return update


async def test_get_me(bot, server):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "wegweiser_test_bot", True)
    assert server.base_url.startswith("http://127.0.0.1:")


async def test_text_update_has_command_entity(bot, server):
    server.send_text(ALICE, "/start abc")
    update = await first_update(bot, server)
    assert update.message.text == "/start abc"
    assert update.message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
    assert update.effective_user.language_code == "de"
    assert update.effective_chat.id == ALICE.user_id


async def test_offset_confirms_updates(bot, server):
    server.send_text(ALICE, "one")
    server.send_text(ALICE, "two")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates] == ["one", "two"]
    assert len(await bot.get_updates()) == 2  # not confirmed yet
    assert await bot.get_updates(offset=updates[0].update_id + 1, limit=5) == (updates[1],)
    assert await bot.get_updates(offset=updates[1].update_id + 1) == ()


async def test_long_poll_returns_early_on_injection(bot, server):
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    server.send_text(ALICE, "hello")
    (update,) = await poll
    assert update.message.text == "hello"
    assert time.monotonic() - started < 1


async def test_second_poller_terminates_the_first(bot, server):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    async with Bot(server.token, base_url=server.base_url) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_send_message_ids_and_inline_keyboard(bot, server):
    server.send_text(ALICE, "hi")  # message 1 in Alice's chat
    first = await bot.send_message(ALICE.user_id, "Choose", reply_markup=KEYBOARD)
    second = await bot.send_message(ALICE.user_id, "Again")
    assert (first.message_id, second.message_id) == (2, 3)
    assert first.reply_markup == KEYBOARD
    assert first.from_user.id == 123456
    call = server.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == ALICE.user_id
    assert call.params["reply_markup"] == KEYBOARD.to_dict()
    assert sorted(server.chat_messages(ALICE.user_id)) == [1, 2, 3]


async def test_press_answer_callback(bot, server):
    server.send_text(ALICE, "hi")
    await first_update(bot, server)
    sent = await bot.send_message(ALICE.user_id, "Choose", reply_markup=KEYBOARD)
    server.press(ALICE, sent.message_id, "yes")
    query = (await first_update(bot, server)).callback_query
    assert query.data == "yes"
    assert query.message == sent
    assert query.message.reply_markup == KEYBOARD
    assert server.unanswered_callbacks == {query.id}
    assert await bot.answer_callback_query(query.id, text="Thanks")
    assert server.unanswered_callbacks == set()
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)


async def test_edit_message_text(bot, server):
    server.send_text(ALICE, "hi")
    sent = await bot.send_message(ALICE.user_id, "Choose", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Choose", ALICE.user_id, sent.message_id, reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Chosen", ALICE.user_id, sent.message_id)
    assert (edited.text, edited.reply_markup, edited.edit_date is not None) == (
        "Chosen",
        None,
        True,
    )
    assert server.chat_messages(ALICE.user_id)[sent.message_id]["text"] == "Chosen"
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALICE.user_id, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", ALICE.user_id, 1)  # Alice's own message


async def test_text_limits_and_unknown_chat(bot, server):
    server.send_text(ALICE, "hi")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALICE.user_id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALICE.user_id, " ")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hello?")
    assert await bot.send_message(ALICE.user_id, "x" * 4096)


async def test_send_photo_upload_then_file_id(bot, server):
    server.send_text(ALICE, "hi")
    uploaded = await bot.send_photo(ALICE.user_id, b"\x89PNG fake", caption="Map")
    assert server.calls_to("sendPhoto")[0].files["photo"] == b"\x89PNG fake"
    assert uploaded.caption == "Map"
    again = await bot.send_photo(ALICE.user_id, uploaded.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == uploaded.photo[-1].file_unique_id
    document = await bot.send_document(ALICE.user_id, b"%PDF", filename="flyer.pdf")
    assert document.document.file_name == "flyer.pdf"
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_voice(ALICE.user_id, "never-issued")


async def test_delete_messages(bot, server):
    server.send_text(ALICE, "hi")
    ids = [(await bot.send_message(ALICE.user_id, f"m{n}")).message_id for n in range(3)]
    assert await bot.delete_messages(ALICE.user_id, [1, ids[0], 999])
    assert sorted(server.chat_messages(ALICE.user_id)) == ids[1:]
    assert await bot.delete_message(ALICE.user_id, ids[1])
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE.user_id, ids[1])
    with pytest.raises(BadRequest):
        await bot.delete_messages(ALICE.user_id, list(range(1, 102)))


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter
async def test_faults(bot, server):
    server.send_text(ALICE, "hi")
    server.fail("sendMessage", "retry_after", retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(ALICE.user_id, "a")
    server.fail(None, "server_error")
    with pytest.raises(NetworkError, match="Internal Server Error") as error:
        await bot.send_message(ALICE.user_id, "b")
    assert error.type is NetworkError
    server.fail("sendMessage", "forbidden")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(ALICE.user_id, "c")
    assert [call.fault for call in server.calls_to("sendMessage")] == [
        "retry_after",
        "server_error",
        "forbidden",
    ]
    assert server.chat_messages(ALICE.user_id).keys() == {1}
    assert await bot.send_message(ALICE.user_id, "d")  # faults are used up


async def test_block_and_member_change(bot, server):
    server.send_text(ALICE, "hi")
    server.block(ALICE.user_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE.user_id, "still there?")
    server.member_change(ALICE.chat(), "kicked", "member", by=ALICE)  # unblocked
    assert await bot.send_message(ALICE.user_id, "welcome back")
    server.member_change(GROUP, "administrator", "kicked", by=ALICE)
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.send_message(GROUP["id"], "hello group")


async def test_timeout_hangs_and_does_not_send(server):
    server.send_text(ALICE, "hi")
    server.fail("sendMessage", "timeout", delay=1.5)
    request = HTTPXRequest(read_timeout=0.5)
    async with Bot(server.token, base_url=server.base_url, request=request) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(ALICE.user_id, "lost")
    assert server.calls_to("sendMessage")[0].fault == "timeout"
    assert [m.get("text") for m in server.chat_messages(ALICE.user_id).values()] == ["hi"]


async def test_commands_and_descriptions(bot, server):
    commands = [BotCommand("start", "Neu beginnen"), BotCommand("delete", "Alles löschen")]
    assert await bot.set_my_commands(commands, language_code="de")
    assert await bot.get_my_commands(language_code="de") == tuple(commands)
    assert await bot.get_my_commands() == ()
    assert await bot.set_my_description("Anonyme Beratung", language_code="de")
    assert (await bot.get_my_description("de")).description == "Anonyme Beratung"
    assert (await bot.get_my_description()).description == ""
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "capital letters are not allowed")])


async def test_webhook_conflicts_with_get_updates(bot, server):
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_deliver_webhook(bot, server):
    received = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        update = server.send_text(ALICE, "via webhook")
        assert await server.deliver_webhook(update, secret="s3cret") == 200
    finally:
        await runner.cleanup()
    assert received == [("s3cret", update)]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_every_injected_update_parses(bot, server):
    for content in CONTENT_EXAMPLES.values():
        server.send_message(ALICE, **content)
    server.edit_text(ALICE, 1, "edited?")  # message 1 is the sticker: PTB does not mind
    server.member_change(GROUP, "left", "administrator", by=ALICE)
    server.member_change(GROUP, "administrator", "restricted", by=ALICE)
    server.group_message(GROUP, ALICE, "/help@wegweiser_test_bot")
    server.channel_post({"id": -100777, "type": "channel", "title": "News"}, "post")
    server.raw_update(
        {"message": {"message_id": 5, "date": 0, "chat": {"id": 5, "type": "private"}}}
    )
    updates = await bot.get_updates(allowed_updates=Update.ALL_TYPES)
    assert [u.update_id for u in updates] == list(range(1, 13))
    message = updates[0].message
    assert (message.sticker.emoji, updates[1].message.photo[-1].width) == ("👍", 800)
    assert updates[6].edited_message.text == "edited?"
    assert updates[7].my_chat_member.new_chat_member.status == "administrator"
    assert updates[8].my_chat_member.new_chat_member.status == "restricted"
    assert updates[9].message.entities[0].length == len("/help@wegweiser_test_bot")
    assert updates[10].channel_post.text == "post"
    assert updates[11].message.chat.id == 5
    # a file the bot received can be sent on by its file_id
    assert await bot.send_voice(GROUP["id"], updates[2].message.voice.file_id)


async def test_copy_message_and_get_chat(bot, server):
    server.send_message(ALICE, **CONTENT_EXAMPLES["photo"])
    server.add_chat(GROUP)
    copied = await bot.copy_message(GROUP["id"], ALICE.user_id, 1, caption="from Alice")
    stored = server.chat_messages(GROUP["id"])[copied.message_id]
    assert (stored["caption"], stored["photo"]) == (
        "from Alice",
        CONTENT_EXAMPLES["photo"]["photo"],
    )
    chat = await bot.get_chat(GROUP["id"])
    assert chat.title == "Counsellors"


async def test_errors_for_token_and_method(server):
    async with Bot(server.token, base_url=server.base_url) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=server.base_url):
            pass


async def test_wait_for_and_wait_idle(bot, server):
    server.send_text(ALICE, "hi")
    await bot.get_updates()
    sending = asyncio.create_task(bot.send_message(ALICE.user_id, "reply"))
    call = await server.wait_for("sendMessage", lambda c: c.params["text"] == "reply")
    assert call.result["text"] == "reply"
    await sending
    await server.wait_idle(quiet=0.05, timeout=1)
    with pytest.raises(AssertionError, match=r"no matching sendMessage call(.|\n)*reply"):
        await server.wait_for("sendMessage", after=len(server.calls), timeout=0.1)
    server.send_text(ALICE, "unfetched")
    with pytest.raises(AssertionError, match="1 updates not fetched"):
        await server.wait_idle(quiet=0.05, timeout=0.1)


async def test_wait_handled_waits_for_the_confirmation_and_the_clients_own_signal(bot, server):
    server.send_text(ALICE, "hi")
    with pytest.raises(AssertionError, match="1 updates not confirmed"):
        await server.wait_handled(timeout=0.05)
    (update,) = await bot.get_updates()
    with pytest.raises(AssertionError, match="1 updates not confirmed"):  # fetched is not done
        await server.wait_handled(timeout=0.05)
    await bot.get_updates(offset=update.update_id + 1)
    await server.wait_handled(timeout=0.05)
    handled = asyncio.Event()
    server.client_done = handled.wait
    with pytest.raises(AssertionError, match="the client did not finish its updates"):
        await server.wait_handled(timeout=0.05)
    handled.set()
    await server.wait_handled(timeout=1)


async def test_random_faults_are_reproducible(bot, server):
    server.send_text(ALICE, "hi")

    async def outcomes() -> list[str]:
        server.fail_randomly({"sendMessage"}, 0.5, ("server_error", "forbidden"), seed=7)
        results = []
        for _ in range(12):
            try:
                await bot.send_message(ALICE.user_id, "x")
                results.append("ok")
            except NetworkError:
                results.append("server_error")
            except Forbidden:
                results.append("forbidden")
        return results

    first = await outcomes()
    assert set(first) == {"ok", "server_error", "forbidden"}
    assert await outcomes() == first
    assert (await bot.get_updates())[0].message.text == "hi"  # getUpdates is spared


async def test_application_round_trip(server):
    """The way the end-to-end tests use it: a PTB Application polling the fake."""

    async def start(update, context):
        await update.message.reply_text("Hello", reply_markup=KEYBOARD)

    async def button(update, context):
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"You said {update.callback_query.data}")

    app = Application.builder().token(server.token).base_url(server.base_url).build()
    app.add_handlers([CommandHandler("start", start), CallbackQueryHandler(button)])
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=10, allowed_updates=Update.ALL_TYPES)
        server.send_text(ALICE, "/start")
        hello = await server.wait_for("sendMessage")
        server.press(ALICE, hello.result["message_id"], "no")
        await server.wait_for("editMessageText")
        await server.wait_idle(quiet=0.05)
        await app.updater.stop()
        await app.stop()
    assert server.unanswered_callbacks == set()
    texts = [m["text"] for m in server.chat_messages(ALICE.user_id).values()]
    assert texts == ["/start", "You said no"]


# -- forum topics ------------------------------------------------------------------------


@pytest.fixture
async def forum(server):
    """The staff forum with the bot as an administrator with can_manage_topics."""
    server.make_admin(FORUM)
    return FORUM


async def test_forum_topic_lifecycle(bot, server, forum):
    topic = await bot.create_forum_topic(FORUM["id"], "Case 17")
    assert (topic.message_thread_id, topic.name, topic.icon_color) == (2, "Case 17", 0x6FB9F0)
    created = server.chat_messages(FORUM["id"])[topic.message_thread_id]
    assert created["forum_topic_created"] == {"name": "Case 17", "icon_color": 0x6FB9F0}
    assert (created["message_thread_id"], created["is_topic_message"]) == (2, True)
    thread = topic.message_thread_id
    assert await bot.edit_forum_topic(FORUM["id"], thread, name="Case 17 (Alice)")
    with pytest.raises(BadRequest, match="Topic_not_modified"):
        await bot.edit_forum_topic(FORUM["id"], thread, name="Case 17 (Alice)")
    assert await bot.edit_forum_topic(FORUM["id"], thread)  # nothing to change
    assert await bot.close_forum_topic(FORUM["id"], thread)
    with pytest.raises(BadRequest, match="Topic_not_modified"):
        await bot.close_forum_topic(FORUM["id"], thread)
    assert server.topics(FORUM["id"])[thread]["closed"] is True
    assert await bot.reopen_forum_topic(FORUM["id"], thread)
    with pytest.raises(BadRequest, match="Topic_not_modified"):
        await bot.reopen_forum_topic(FORUM["id"], thread)
    service = [
        set(m) & {"forum_topic_edited", "forum_topic_closed", "forum_topic_reopened"}
        for m in server.topic_messages(FORUM["id"], thread).values()
    ]
    assert service == [
        set(),
        {"forum_topic_edited"},
        {"forum_topic_closed"},
        {"forum_topic_reopened"},
    ]
    assert server.topics(FORUM["id"]) == {
        thread: {
            "message_thread_id": thread,
            "name": "Case 17 (Alice)",
            "icon_color": 0x6FB9F0,
            "closed": False,
            "deleted": False,
            "created_by": 123456,
        }
    }
    second = await bot.create_forum_topic(FORUM["id"], "x" * 130, icon_color=0xFB6F5F)
    assert (second.name, second.icon_color) == ("x" * 128, 0xFB6F5F)  # cut, as TDLib does
    emoji = await bot.create_forum_topic(FORUM["id"], "Case", icon_custom_emoji_id="5312536423")
    assert emoji.icon_custom_emoji_id == "5312536423"  # a string, though all digits
    assert await bot.edit_forum_topic(FORUM["id"], emoji.message_thread_id, icon_custom_emoji_id="")
    assert "icon_custom_emoji_id" not in server.topics(FORUM["id"])[emoji.message_thread_id]


async def test_delete_forum_topic_takes_its_messages(bot, server, forum):
    server.group_message(FORUM, CARLA, "in General")
    topic = await bot.create_forum_topic(FORUM["id"], "Case 18")
    thread = topic.message_thread_id
    await bot.send_message(FORUM["id"], "A new case", message_thread_id=thread)
    server.topic_message(FORUM, CARLA, thread, "I take it")
    assert len(server.topic_messages(FORUM["id"], thread)) == 3
    assert await bot.delete_forum_topic(FORUM["id"], thread)
    assert [m.get("text") for m in server.chat_messages(FORUM["id"]).values()] == ["in General"]
    assert server.topics(FORUM["id"])[thread]["deleted"] is True
    with pytest.raises(BadRequest, match="Topic_id_invalid"):
        await bot.delete_forum_topic(FORUM["id"], thread)
    with pytest.raises(BadRequest, match="Topic_id_invalid"):
        await bot.edit_forum_topic(FORUM["id"], thread, name="again")
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM["id"], "anyone?", message_thread_id=thread)
    with pytest.raises(ValueError, match="no topic"):
        server.topic_message(FORUM, CARLA, thread, "hello?")


async def test_forum_errors(bot, server, forum):
    server.add_chat(GROUP)
    with pytest.raises(BadRequest, match="The chat is not a forum"):
        await bot.create_forum_topic(GROUP["id"], "Case")
    with pytest.raises(BadRequest, match="The chat is not a forum"):
        await bot.close_forum_topic(GROUP["id"], 2)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.create_forum_topic(-100999, "Case")
    with pytest.raises(BadRequest, match="Title must be non-empty"):
        await bot.create_forum_topic(FORUM["id"], "   ")
    with pytest.raises(BadRequest, match="Topic_id_invalid"):
        await bot.close_forum_topic(FORUM["id"], 77)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM["id"], "x", message_thread_id=77)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(GROUP["id"], "x", message_thread_id=2)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_chat_action(FORUM["id"], "typing", message_thread_id=77)
    # rights: an administrator without can_manage_topics, or one via my_chat_member
    # (its payload grants no can_manage_topics), may not create topics
    server.make_admin(FORUM, can_manage_topics=False)
    with pytest.raises(BadRequest, match="Not enough rights to create a topic"):
        await bot.create_forum_topic(FORUM["id"], "Case")
    server.member_change(FORUM, "member", "administrator", by=CARLA)
    with pytest.raises(BadRequest, match="Not enough rights to create a topic"):
        await bot.create_forum_topic(FORUM["id"], "Case")
    change = server.member_change(FORUM, "administrator", "administrator", by=CARLA)
    change["my_chat_member"]["new_chat_member"]["can_manage_topics"] = True
    server.raw_update(change)
    assert await bot.create_forum_topic(FORUM["id"], "Case")
    assert [u.my_chat_member is not None for u in await bot.get_updates()] == [True] * 3


async def test_closed_topic_takes_posts_only_with_can_manage_topics(bot, server, forum):
    server.send_text(ALICE, "hi")
    thread = (await bot.create_forum_topic(FORUM["id"], "Case 19")).message_thread_id
    assert await bot.close_forum_topic(FORUM["id"], thread)
    assert await bot.send_message(FORUM["id"], "admins may", message_thread_id=thread)
    server.make_admin(FORUM, can_manage_topics=False)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_message(FORUM["id"], "closed", message_thread_id=thread)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.copy_message(FORUM["id"], ALICE.user_id, 1, message_thread_id=thread)
    with pytest.raises(BadRequest, match="Topic_closed"):
        await bot.send_voice(FORUM["id"], b"OggS", message_thread_id=thread)
    assert await bot.send_chat_action(FORUM["id"], "typing", message_thread_id=thread)
    # the creator of a topic may reopen it without rights
    assert await bot.reopen_forum_topic(FORUM["id"], thread)
    assert await bot.send_message(FORUM["id"], "open again", message_thread_id=thread)


async def test_send_media_into_topic(bot, server, forum):
    thread = (await bot.create_forum_topic(FORUM["id"], "Case 20")).message_thread_id
    sent = await bot.send_message(FORUM["id"], "New case", message_thread_id=thread)
    assert (sent.message_thread_id, sent.is_topic_message) == (thread, True)
    # as in Telegram, a topic message replies to the topic's creation unless to another
    assert sent.reply_to_message.forum_topic_created.name == "Case 20"
    photo = await bot.send_photo(FORUM["id"], b"\x89PNG", message_thread_id=thread)
    voice = await bot.send_voice(FORUM["id"], b"OggS", message_thread_id=thread)
    document = await bot.send_document(
        FORUM["id"], b"%PDF", filename="a.pdf", message_thread_id=thread
    )
    audio = await bot.send_audio(FORUM["id"], b"ID3", message_thread_id=thread)
    assert {m.message_thread_id for m in (photo, voice, document, audio)} == {thread}
    general = await bot.send_message(FORUM["id"], "to General")
    assert (general.message_thread_id, general.is_topic_message) == (None, None)
    assert list(server.topic_messages(FORUM["id"], thread)) == [thread, *range(3, 8)]


async def test_copy_between_private_chat_and_topic(bot, server, forum):
    thread = (await bot.create_forum_topic(FORUM["id"], "Case 21")).message_thread_id
    kinds = ("photo", "voice", "document")
    server.send_text(ALICE, "Hello, I need help")
    for kind in kinds:
        server.send_message(ALICE, **CONTENT_EXAMPLES[kind])
    for message_id in range(1, 5):
        copied = await bot.copy_message(
            FORUM["id"], ALICE.user_id, message_id, message_thread_id=thread
        )
        assert isinstance(copied, MessageId)
        stored = server.chat_messages(FORUM["id"])[copied.message_id]
        original = server.chat_messages(ALICE.user_id)[message_id]
        assert (stored["message_thread_id"], stored["is_topic_message"]) == (thread, True)
        assert stored["from"]["id"] == 123456
        assert "forward_origin" not in stored and "forward_from" not in stored
        content = {k: v for k, v in original.items() if k in ("text", "caption", *kinds)}
        assert {k: stored[k] for k in content} == content
    # and back: counsellors write in the topic, the bot copies to Alice
    answers = [
        server.topic_message(FORUM, CARLA, thread, "We are here"),
        *(server.topic_message(FORUM, CARLA, thread, **CONTENT_EXAMPLES[kind]) for kind in kinds),
    ]
    for update in answers:
        message_id = update["message"]["message_id"]
        copied = await bot.copy_message(ALICE.user_id, FORUM["id"], message_id)
        stored = server.chat_messages(ALICE.user_id)[copied.message_id]
        assert stored["chat"]["id"] == ALICE.user_id
        assert (
            not {"message_thread_id", "is_topic_message", "reply_to_message", "forward_origin"}
            & stored.keys()
        )
        content = {k: v for k, v in update["message"].items() if k in ("text", *kinds)}
        assert {k: stored[k] for k in content} == content
    with pytest.raises(BadRequest, match="Message can't be copied"):
        await bot.copy_message(ALICE.user_id, FORUM["id"], thread)  # forum_topic_created


async def test_reply_threading(bot, server, forum):
    thread = (await bot.create_forum_topic(FORUM["id"], "Case 22")).message_thread_id
    question = await bot.send_message(FORUM["id"], "Who takes it?", message_thread_id=thread)
    answer = server.topic_message(FORUM, CARLA, thread, "I do", reply_to=question.message_id)
    assert answer["message"]["reply_to_message"]["text"] == "Who takes it?"
    plain = server.topic_message(FORUM, CARLA, thread, "/close")
    assert plain["message"]["reply_to_message"]["forum_topic_created"]["name"] == "Case 22"
    assert plain["message"]["entities"][0]["type"] == "bot_command"
    # a reply lands in the topic of the message replied to, without message_thread_id
    reply = await bot.send_message(
        FORUM["id"], "Thanks", reply_parameters=ReplyParameters(answer["message"]["message_id"])
    )
    assert (reply.message_thread_id, reply.reply_to_message.text) == (thread, "I do")
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(FORUM["id"], "x", reply_parameters=ReplyParameters(999))
    server.send_text(ALICE, "private")
    private = await bot.send_message(ALICE.user_id, "ok", reply_parameters=ReplyParameters(1))
    assert (private.reply_to_message.text, private.message_thread_id) == ("private", None)
    *_, command, _ = await bot.get_updates()
    assert command.message.reply_to_message.forum_topic_created.name == "Case 22"
    assert (command.message.is_topic_message, command.message.message_thread_id) == (True, thread)


async def test_topic_message_edit_and_press_reach_application(server, forum):
    """A counsellor's command, edit and button press in a topic, through PTB handlers."""
    seen: list[tuple[str, int | None, int]] = []

    async def close(update, context):
        seen.append(("command", update.message.message_thread_id, update.effective_user.id))
        await update.message.reply_text("Close the case?", reply_markup=KEYBOARD)

    async def edited(update, context):
        message = update.edited_message
        seen.append(("edited " + message.text, message.message_thread_id, message.from_user.id))

    async def button(update, context):
        query = update.callback_query
        seen.append((query.data, query.message.message_thread_id, query.from_user.id))
        await query.answer()
        await query.edit_message_text("Closed")

    app = Application.builder().token(server.token).base_url(server.base_url).build()
    app.add_handlers(
        [
            CommandHandler("close", close, filters.UpdateType.MESSAGE),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.IS_TOPIC_MESSAGE, edited),
            CallbackQueryHandler(button),
        ]
    )
    async with Bot(server.token, base_url=server.base_url) as bot:
        thread = (await bot.create_forum_topic(FORUM["id"], "Case 23")).message_thread_id
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=10, allowed_updates=Update.ALL_TYPES)
        note = server.topic_message(FORUM, CARLA, thread, "note")
        server.edit_text(CARLA, note["message"]["message_id"], "note, edited", chat=FORUM)
        server.topic_message(FORUM, CARLA, thread, "/close")
        asked = await server.wait_for("sendMessage")
        assert asked.params["message_thread_id"] == thread
        server.press(CARLA, asked.result["message_id"], "yes", chat=FORUM)
        await server.wait_for("editMessageText")
        await server.wait_idle(quiet=0.05)
        await app.updater.stop()
        await app.stop()
    assert seen == [
        ("edited note, edited", thread, CARLA.user_id),
        ("command", thread, CARLA.user_id),
        ("yes", thread, CARLA.user_id),
    ]
    assert server.unanswered_callbacks == set()
    last = server.chat_messages(FORUM["id"])[asked.result["message_id"]]
    assert (last["text"], last["message_thread_id"]) == ("Closed", thread)
    assert last["reply_to_message"]["text"] == "/close"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter
async def test_topic_faults(bot, server, forum):
    server.fail("createForumTopic", "retry_after", retry_after=2)
    with pytest.raises(RetryAfter):
        await bot.create_forum_topic(FORUM["id"], "Case 24")
    assert server.topics(FORUM["id"]) == {}
    thread = (await bot.create_forum_topic(FORUM["id"], "Case 24")).message_thread_id
    server.fail_randomly({"closeForumTopic", "deleteForumTopic"}, 1.0, ("server_error",))
    with pytest.raises(NetworkError):
        await bot.close_forum_topic(FORUM["id"], thread)
    with pytest.raises(NetworkError):
        await bot.delete_forum_topic(FORUM["id"], thread)
    assert await bot.send_message(FORUM["id"], "spared", message_thread_id=thread)
    server.fail_randomly(None, 0.0, ("server_error",))
    assert await bot.close_forum_topic(FORUM["id"], thread)
    assert [call.fault for call in server.calls_to("closeForumTopic")] == ["server_error", None]


async def test_get_chat_member(bot, server, forum):
    """A stranger has left; someone who posted is a member until an admin changes that."""
    assert (await bot.get_chat_member(FORUM["id"], CARLA.user_id)).status == "left"
    server.group_message(FORUM, CARLA, "hi")
    assert (await bot.get_chat_member(FORUM["id"], CARLA.user_id)).status == "member"
    server.set_member(FORUM, CARLA, "restricted")
    assert (await bot.get_chat_member(FORUM["id"], CARLA.user_id)).status == "restricted"
    server.group_message(FORUM, CARLA, "still here")
    assert (await bot.get_chat_member(FORUM["id"], CARLA.user_id)).status == "restricted"
    me = await bot.get_chat_member(FORUM["id"], server.bot_user["id"])
    assert me.status == "administrator"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat_member(-1, CARLA.user_id)
