"""The sandbox's test API: what people do, what the bot did, and faults. JSON over HTTP."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import time

from aiohttp import web

from bot.sandbox.server import DEMO_PAGE, JSON, Fault, SandboxState

# A 1×1 PNG, for photos sent without a file of their own.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _user(body: JSON) -> JSON:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise web.HTTPBadRequest(text="user: {id, first_name, language_code?} is required")
    return {"is_bot": False, "first_name": "", **user}


def _entities(text: str) -> list[JSON]:
    if not text.startswith("/"):
        return []
    command = text.split()[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def add_test_routes(app: web.Application, s: SandboxState) -> None:
    routes = web.RouteTableDef()

    @routes.post("/test/message")
    async def message(request: web.Request) -> web.Response:
        body = await request.json()
        user = _user(body)
        chat = s.chat_for(user, body.get("chat"))
        content: JSON = {}
        if "text" in body:
            content["text"] = str(body["text"])
            if entities := _entities(content["text"]):
                content["entities"] = entities
        if "photo" in body:
            data = base64.b64decode(body["photo"]) if isinstance(body["photo"], str) else TINY_PNG
            file_id = "F" + secrets.token_urlsafe(12)
            s.files[file_id] = (data, "photo.jpg")
            size = int(body.get("photo_size") or len(data))  # a test may claim a huge photo
            content["photo"] = [{"file_id": file_id, "file_unique_id": file_id[1:9],
                                 "width": 800, "height": 600, "file_size": size}]  # fmt: skip
            if body.get("caption"):
                content["caption"] = str(body["caption"])
            if body.get("media_group_id"):
                content["media_group_id"] = str(body["media_group_id"])
        if body.get("document"):
            document = dict(body["document"])
            content["document"] = {"file_id": "D" + secrets.token_urlsafe(12),
                                   "file_unique_id": secrets.token_urlsafe(6), **document}  # fmt: skip
        if "location" in body:
            content["location"] = body["location"]
        if body.get("sticker"):
            content["sticker"] = {"file_id": "STK", "file_unique_id": "STK", "type": "regular",
                                  "width": 512, "height": 512, "is_animated": False,
                                  "is_video": False, "emoji": "👍"}  # fmt: skip
        if body.get("contact"):
            content["contact"] = body["contact"]
        if not content:
            raise web.HTTPBadRequest(
                text="a message needs text, photo, document, location, sticker or contact"
            )
        msg = s.new_message(chat, user, **content)
        await s.record("user", int(chat["id"]), msg)
        update_id = await s.push_update({"message": msg})
        return web.json_response({"update_id": update_id, "message": msg})

    @routes.post("/test/callback")
    async def callback(request: web.Request) -> web.Response:
        body = await request.json()
        user = _user(body)
        chat_id = int(body["chat_id"])
        found = s.messages.get(chat_id, {}).get(int(body["message_id"]))
        if found is None:
            raise web.HTTPNotFound(text="no such message")
        data = body.get("data")
        if data is None:
            data = _button_data(found, str(body.get("text", "")))
        query_id = str(secrets.randbits(62))
        s.callbacks[query_id] = None
        query = {"id": query_id, "from": user, "message": found,
                 "chat_instance": str(chat_id), "data": data}  # fmt: skip
        await s.record("tap", chat_id, None, user=user, data=data, message_id=found["message_id"])
        update_id = await s.push_update({"callback_query": query})
        return web.json_response({"update_id": update_id, "callback_query_id": query_id})

    @routes.post("/test/my_chat_member")
    async def my_chat_member(request: web.Request) -> web.Response:
        body = await request.json()
        user = _user(body)
        chat = s.chat_for(user, body["chat"])
        new = str(body.get("status", "member"))
        old = s.bot_status.get(int(chat["id"]), "left")
        s.bot_status[int(chat["id"])] = new
        member_old: JSON = {"status": old, "user": s.bot_user}
        member_new: JSON = {"status": new, "user": s.bot_user}
        if new == "kicked":
            member_new["until_date"] = 0
        if new == "administrator":
            member_new.update(can_be_edited=False, can_manage_chat=True, can_change_info=False,
                              can_delete_messages=True, can_invite_users=True,
                              can_restrict_members=False, can_pin_messages=False,
                              can_promote_members=False, can_manage_video_chats=False,
                              is_anonymous=False, can_post_stories=False, can_edit_stories=False,
                              can_delete_stories=False)  # fmt: skip
        event = {"chat": chat, "from": user, "date": int(time.time()),
                 "old_chat_member": member_old, "new_chat_member": member_new}  # fmt: skip
        await s.record("member", int(chat["id"]), None, status=new, user=user)
        update_id = await s.push_update({"my_chat_member": event})
        return web.json_response({"update_id": update_id})

    @routes.post("/test/migrate")
    async def migrate(request: web.Request) -> web.Response:
        body = await request.json()
        user = _user(body)
        old_id, new_id = int(body["chat_id"]), int(body["new_chat_id"])
        old_chat = s.chats[old_id]
        new_chat = {"id": new_id, "type": "supergroup", "title": old_chat.get("title", "")}
        s.chats[new_id] = new_chat
        s.bot_status[new_id] = s.bot_status.get(old_id, "member")
        first = s.new_message(old_chat, user, migrate_to_chat_id=new_id)
        second = s.new_message(new_chat, user, migrate_from_chat_id=old_id)
        s.migrated[old_id] = new_id
        ids = [await s.push_update({"message": first}), await s.push_update({"message": second})]
        return web.json_response({"update_ids": ids})

    @routes.post("/test/block")
    async def block(request: web.Request) -> web.Response:
        body = await request.json()
        (s.blocked.add if body.get("blocked", True) else s.blocked.discard)(int(body["user_id"]))
        return web.json_response({"ok": True})

    @routes.get("/test/events")
    async def events(request: web.Request) -> web.Response:
        after = int(request.query.get("after", 0))
        timeout = min(float(request.query.get("timeout", 0)), 60.0)
        chat = request.query.get("chat_id")
        deadline = time.monotonic() + timeout

        def pick() -> list[JSON]:
            found = [e for e in s.events if e["seq"] > after]
            return [e for e in found if chat is None or e["chat_id"] == int(chat)]

        async with s.events_changed:
            while not pick() and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        s.events_changed.wait(), timeout=deadline - time.monotonic()
                    )
        last = s.events[-1]["seq"] if s.events else 0
        return web.json_response({"events": pick(), "last": last})

    @routes.get("/test/messages")
    async def messages(request: web.Request) -> web.Response:
        chat_id = int(request.query["chat_id"])
        return web.json_response(list(s.messages.get(chat_id, {}).values()))

    @routes.get("/test/callback/{query_id}")
    async def callback_answer(request: web.Request) -> web.Response:
        return web.json_response({"answer": s.callbacks.get(request.match_info["query_id"])})

    @routes.post("/test/faults")
    async def faults(request: web.Request) -> web.Response:
        body = await request.json()
        s.faults.append(
            Fault(
                method=str(body.get("method", "*")),
                error_code=int(body["error_code"]),
                count=int(body.get("count", 1)),
                retry_after=body.get("retry_after"),
                chat_id=body.get("chat_id"),
            )
        )
        return web.json_response({"ok": True})

    @routes.post("/test/outage")
    async def outage(request: web.Request) -> web.Response:
        body = await request.json()
        s.outage_until = time.monotonic() + float(body.get("seconds", 30))
        return web.json_response({"ok": True})

    @routes.post("/test/limits")
    async def limits(request: web.Request) -> web.Response:
        body = await request.json()
        for key, value in body.items():
            if hasattr(s.limits, key):
                setattr(s.limits, key, type(getattr(s.limits, key))(value))
        return web.json_response({"ok": True})

    @routes.get("/test/stats")
    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"stats": s.stats, "violations": len(s.violations),
                                  "pending_updates": len(s.updates),
                                  "commands": s.commands})  # fmt: skip

    @routes.post("/test/clock")
    async def clock(request: web.Request) -> web.Response:
        if s.clock_advance is None:
            raise web.HTTPNotFound(text="time travel is off: the bot's clock is not shared")
        body = await request.json()
        offset = await s.clock_advance(float(body.get("seconds", 0)))
        return web.json_response({"offset_seconds": offset})

    @routes.get("/test/clock")
    async def clock_offset(request: web.Request) -> web.Response:
        if s.clock_offset is None:
            raise web.HTTPNotFound(text="time travel is off: the bot's clock is not shared")
        return web.json_response({"offset_seconds": s.clock_offset()})

    @routes.get("/test/demo")
    async def demo_config(request: web.Request) -> web.Response:
        return web.json_response(s.demo or {})

    @routes.get("/")
    async def page(request: web.Request) -> web.StreamResponse:
        if s.demo is None:
            return web.Response(text="Last Meter sandbox Bot API server\n")
        return web.FileResponse(DEMO_PAGE)

    app.add_routes(routes)


def _button_data(message: JSON, text: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button.get("text") == text and "callback_data" in button:
                return str(button["callback_data"])
    raise web.HTTPNotFound(text=f"no button {text!r} on that message")
