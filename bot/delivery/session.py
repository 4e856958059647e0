"""The HTTP session to the Bot API, keeping the answer models it has built, and posting the
outbox's rows as the JSON they are.

aiogram reads every answer through `Response[T]`, a pydantic generic parametrised anew for each
call. pydantic caches parametrised models weakly, so after a garbage collection the model is
rebuilt: about 4 ms a request, a quarter of the CPU at low rates. The session holds each one it
used, so it is built once per process.

An outbox row's parameters are already the Bot API's JSON. aiogram would build the method's
pydantic model from them, dump it again and encode it field by field as a form: about 0.3 ms a
message with a keyboard, against 0.01 ms for posting the JSON (`post_json`). The answer is read,
and its errors raised, exactly as aiogram does (`check_response`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot


class PinnedSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._models: dict[Any, type[Response[Any]]] = {}
        self._blanks: dict[type[TelegramMethod[Any]], TelegramMethod[Any]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._models:
            self._models[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    async def post_json(
        self, bot: Bot, method: type[TelegramMethod[TelegramType]], params: dict[str, Any]
    ) -> TelegramType:
        """Call `method` with parameters that are the Bot API's JSON already (no files)."""
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        body = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            async with session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=ClientTimeout(total=self.timeout),
            ) as response:
                content = await response.text()
        except TimeoutError as exc:
            call = method.model_construct(**params)
            raise TelegramNetworkError(method=call, message="Request timeout error") from exc
        except ClientError as exc:
            call = method.model_construct(**params)
            raise TelegramNetworkError(method=call, message=f"{type(exc).__name__}: {exc}") from exc
        # The answer is read for the method's type; only an error needs the call itself (building
        # it costs more than reading the answer).
        blank = self._blanks.get(method)
        if blank is None:
            blank = self._blanks[method] = method.model_construct()
        try:
            answer = self.check_response(
                bot=bot, method=blank, status_code=response.status, content=content
            )
        except TelegramAPIError as exc:
            exc.method = method.model_construct(**params)
            raise
        return answer.result  # type: ignore[return-value]  # as aiogram's make_request casts it
