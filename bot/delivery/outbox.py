"""Writing outgoing messages into the outbox, in the transaction of the change that causes them."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.clock import Clock
from storage.db import Session
from storage.outbox import OutboxRepo

# Bot API methods the sender knows how to deliver.
SEND_MESSAGE = "sendMessage"
EDIT_MESSAGE_TEXT = "editMessageText"
EDIT_MESSAGE_MARKUP = "editMessageReplyMarkup"
ANSWER_CALLBACK = "answerCallbackQuery"
SEND_PHOTO = "sendPhoto"
SEND_DOCUMENT = "sendDocument"
STORED_FILE = "stored:"  # a document's bytes kept in the files table until sent: stored:<id>

# A message may carry inline buttons, or replace the keyboard (a button that shares the location
# or the phone number) or remove it.
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class Priority(IntEnum):
    """Replies to a waiting user go first, then alerts, then broadcasts."""

    REPLY = 0
    ALERT = 1
    BROADCAST = 2


def stored(file_id: int) -> str:
    """How an outbox row names a file the bot made and stored (storage.files.FileRepo): the
    sender uploads it when the row is sent."""
    return f"{STORED_FILE}{file_id}"


class Outbox:
    """What a use case says to people; nothing leaves before the transaction commits."""

    def __init__(self, session: Session, clock: Clock, cause: int | None = None) -> None:
        self._repo = OutboxRepo(session)
        self._clock = clock
        self._cause = cause

    async def _add(
        self,
        chat_id: int,
        method: str,
        params: dict[str, Any],
        priority: int,
        ref_id: int | None = None,
    ) -> int:
        payload = json.dumps(params, ensure_ascii=False, separators=(",", ":"))
        return await self._repo.add(
            chat_id, method, payload, int(priority), self._clock.now(), self._cause, ref_id
        )

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: Markup | None = None,
        priority: Priority = Priority.REPLY,
        disable_preview: bool = True,
    ) -> int:
        params: dict[str, Any] = {"chat_id": chat_id, "text": str(text), "parse_mode": "HTML"}
        if markup is not None:
            params["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        if disable_preview:
            params["link_preview_options"] = {"is_disabled": True}
        return await self._add(chat_id, SEND_MESSAGE, params, priority)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        priority: Priority = Priority.REPLY,
    ) -> int:
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": str(text),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if markup is not None:
            params["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        return await self._add(chat_id, EDIT_MESSAGE_TEXT, params, priority)

    async def edit_markup(
        self,
        chat_id: int,
        message_id: int,
        markup: InlineKeyboardMarkup | None = None,
        *,
        priority: Priority = Priority.REPLY,
    ) -> int:
        """Change only a message's buttons (none: they go, because they no longer apply)."""
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
        if markup is not None:
            params["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        return await self._add(chat_id, EDIT_MESSAGE_MARKUP, params, priority)

    async def edit_sent(
        self,
        chat_id: int,
        ref_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        priority: Priority = Priority.ALERT,
    ) -> int:
        """Edit the message another outbox row sent (or will send): a card edited in place.

        The message id is filled in when the edit is sent; if that message is gone, the new text
        arrives as a new message instead, so the change is never lost.
        """
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "text": str(text),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if markup is not None:
            params["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        return await self._add(chat_id, EDIT_MESSAGE_TEXT, params, priority, ref_id)

    async def send_photo(
        self,
        chat_id: int,
        photo: str,
        caption: str = "",
        *,
        markup: InlineKeyboardMarkup | None = None,
        priority: Priority = Priority.REPLY,
    ) -> int:
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo, "parse_mode": "HTML"}
        if caption:
            params["caption"] = str(caption)
        if markup is not None:
            params["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        return await self._add(chat_id, SEND_PHOTO, params, priority)

    async def send_document(
        self,
        chat_id: int,
        file_id: int,
        caption: str = "",
        *,
        priority: Priority = Priority.REPLY,
    ) -> int:
        """Send a file the bot made (see storage.party.FileRepo), stored with this change."""
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "document": stored(file_id),
            "parse_mode": "HTML",
        }
        if caption:
            params["caption"] = str(caption)
        return await self._add(chat_id, SEND_DOCUMENT, params, priority)

    async def answer_callback(
        self, user_id: int, callback_id: str, text: str | None = None, *, alert: bool = False
    ) -> int:
        params: dict[str, Any] = {"callback_query_id": callback_id}
        if text:
            params["text"] = str(text)
            params["show_alert"] = alert
        return await self._add(user_id, ANSWER_CALLBACK, params, Priority.REPLY)
