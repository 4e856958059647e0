"""The sandbox refuses what Telegram refuses, in Telegram's words, so that a test cannot pass on a
message Telegram would drop: HTML beyond https://core.telegram.org/bots/api#html-style, inline
buttons beyond #inlinekeyboardbutton; and getUpdates takes a negative offset as #getupdates says.
It also keeps what Telegram keeps across a restart (the demo's)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.sandbox.html_check import EntityError, plain_text
from bot.sandbox.server import SandboxState
from tests.harness import TOKEN, Person, Sandbox

AUNT_LI = Person(3101, "李阿姨")


async def call(sandbox: Sandbox, method: str, **params: Any) -> dict[str, Any]:
    """A Bot API call over HTTP, as the bot makes it; Telegram's whole answer."""
    async with sandbox.http.post(f"{sandbox.base}/bot{TOKEN}/{method}", json=params) as response:
        answer: dict[str, Any] = await response.json()
        assert (response.status == 200) == answer["ok"], answer
        return answer


# --- HTML ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("气温 <5 度", 'Unsupported start tag "5" at byte offset 7'),  # offsets count bytes
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("a<br/>b", 'Unsupported start tag "br/" at byte offset 1'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="https://x.org"', "Unclosed start tag at byte offset 0"),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<a ="x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ('<tg-emoji emoji-id="x">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_html_telegram_refuses_is_refused_with_its_message(html: str, error: str) -> None:
    with pytest.raises(EntityError) as refused:
        plain_text(html, "HTML")
    assert str(refused.value) == error


@pytest.mark.parametrize(
    ("html", "seen"),
    [
        # Only &lt; &gt; &amp; &quot; are named references; any other stays as written.
        ("a&nbsp;b", "a&nbsp;b"),
        ("&copy; 2024 &hellip;", "&copy; 2024 &hellip;"),
        ("&lt;b&gt; &amp; &quot;x&quot;", '<b> & "x"'),
        ("&lt &amp", "< &"),  # without ';' too
        ("&#60;&#x4e2d;&#22269;", "<中国"),
        ("&#0; &#xzz;", "&#0; &#xzz;"),
        # A '&' or '>' that is not part of a tag or a reference is taken as it is.
        ("A & B > C", "A & B > C"),
        # Attributes other than the ones Telegram reads are ignored.
        ('<b class="x">bold</b>', "bold"),
        ("<a href='https://example.org/?a=1&amp;b=2' title=t>link</a>", "link"),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>q</blockquote>", "q"),
        ("<B>x</b> <i>y</>", "x y"),  # names are not case-sensitive; </> closes any tag
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ],
)
def test_html_telegram_takes_reads_as_the_recipient_sees_it(html: str, seen: str) -> None:
    assert plain_text(html, "HTML") == seen


def test_without_a_parse_mode_the_text_is_plain() -> None:
    assert plain_text("1 < 2 &nbsp;<br>", None) == "1 < 2 &nbsp;<br>"


async def test_a_message_telegram_cannot_parse_is_answered_400_and_noted(
    sandbox: Sandbox,
) -> None:
    await sandbox.say(AUNT_LI, "/start")
    answer = await call(sandbox, "sendMessage", chat_id=AUNT_LI.id, text="1 < 2", parse_mode="HTML")
    assert answer == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: can\'t parse entities: Unsupported start tag "" at byte '
        "offset 2",
    }
    assert [r["method"] for r in sandbox.state.refused] == ["sendMessage"]
    assert not [e for e in sandbox.state.events if e["type"] == "send"]


# --- inline buttons ------------------------------------------------------------------------------


def keyboard(**button: Any) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "按钮", **button}]]}


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        (keyboard(callback_data=""), "Bad Request: BUTTON_DATA_INVALID"),
        (keyboard(callback_data="x" * 65), "Bad Request: BUTTON_DATA_INVALID"),
        (keyboard(callback_data="中" * 22), "Bad Request: BUTTON_DATA_INVALID"),  # 66 bytes
        (
            keyboard(),
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            keyboard(callback_data=5),
            'Bad Request: can\'t parse inline keyboard button: Field "callback_data" must be of '
            "type String",
        ),
    ],
)
async def test_a_button_telegram_refuses_is_refused(
    sandbox: Sandbox, markup: dict[str, Any], error: str
) -> None:
    await sandbox.say(AUNT_LI, "/start")
    answer = await call(sandbox, "sendMessage", chat_id=AUNT_LI.id, text="?", reply_markup=markup)
    assert (answer["error_code"], answer["description"]) == (400, error)
    assert [r["description"] for r in sandbox.state.refused] == [error]


@pytest.mark.parametrize(
    "markup",
    [
        keyboard(callback_data="x"),
        keyboard(callback_data="中" * 21 + "x"),  # 64 bytes
        keyboard(url="https://example.org/"),
        keyboard(switch_inline_query=""),  # an empty query is a query
    ],
)
async def test_a_button_within_the_rules_is_taken(sandbox: Sandbox, markup: dict[str, Any]) -> None:
    await sandbox.say(AUNT_LI, "/start")
    answer = await call(sandbox, "sendMessage", chat_id=AUNT_LI.id, text="?", reply_markup=markup)
    assert answer["result"]["reply_markup"] == markup


# --- getUpdates ----------------------------------------------------------------------------------


async def test_a_negative_offset_gets_the_last_updates_and_forgets_the_ones_before(
    sandbox: Sandbox,
) -> None:
    ids = [(await sandbox.say(AUNT_LI, f"第{n}条"))["update_id"] for n in range(1, 6)]
    last_two = (await call(sandbox, "getUpdates", offset=-2))["result"]
    assert [u["update_id"] for u in last_two] == ids[-2:]
    # The three before them are gone: no offset brings them back.
    assert [u["update_id"] for u in (await call(sandbox, "getUpdates"))["result"]] == ids[-2:]
    assert [u["update_id"] for u in (await call(sandbox, "getUpdates", offset=-9))["result"]] == (
        ids[-2:]
    )
    assert (await call(sandbox, "getUpdates", offset=ids[-1] + 1))["result"] == []


# --- across restarts -----------------------------------------------------------------------------


async def test_a_snapshot_brings_back_chats_messages_files_and_numbering(
    sandbox: Sandbox,
) -> None:
    first = await sandbox.say(AUNT_LI, "/start")
    photo = await sandbox.send(AUNT_LI, photo=True)
    sent = await call(sandbox, "sendMessage", chat_id=AUNT_LI.id, text="<b>你好</b>",
                      parse_mode="HTML")  # fmt: skip
    again = SandboxState(token=TOKEN, bot_id=sandbox.state.bot_id)
    again.restore(json.loads(json.dumps(sandbox.state.snapshot())))
    assert again.chats == sandbox.state.chats
    assert again.messages == sandbox.state.messages
    assert again.files == sandbox.state.files
    assert again.events == sandbox.state.events
    assert again.updates == sandbox.state.updates
    file_id = photo["message"]["photo"][0]["file_id"]
    assert again.files[file_id][0] == sandbox.state.files[file_id][0]
    update_id = await again.push_update({"message": {"text": "x"}})
    assert update_id == photo["update_id"] + 1 > first["update_id"]
    message = again.new_message(again.chats[AUNT_LI.id], again.bot_user, text="又一条")
    assert message["message_id"] == sent["result"]["message_id"] + 1


def test_updates_can_be_numbered_above_the_ones_a_bot_has() -> None:
    state = SandboxState(token=TOKEN, bot_id=1)
    state.number_updates_after(41)
    assert next(state.update_seq) == 42
    state.number_updates_after(7)  # never back
    assert next(state.update_seq) == 43
