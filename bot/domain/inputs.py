"""What people type or tap, read strictly: ids, numbers and coordinates, range-checked before
they go near the database (SQLite and PostgreSQL integers hold 64 bits; Python's do not stop)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field

# Telegram's own ids (users, chats) stay within 52 bits; the database keeps them in BIGINT.
MAX_ID = 2**53 - 1
# The ids the bot gives (tickets, units, items, activities) are INTEGER columns: 32 bits on
# PostgreSQL, so a forged 2147483648 must stop here, not reach the driver.
MAX_ROW_ID = 2**31 - 1
ASCII_NUMBER = re.compile(r"[0-9]{1,16}")  # str.isdigit() also takes "²" and "١٢"

# A database id in callback data: a forged "2147483648" fails to unpack (a stale button).
Id = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
# A Telegram id in callback data (the staff member who asked a question).
TelegramId = Annotated[int, Field(ge=0, le=MAX_ID)]


def parse_id(text: str) -> int | None:
    """A positive database id written in ASCII digits, else None."""
    if not ASCII_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ROW_ID else None


def parse_number(text: str, low: int, high: int) -> int | None:
    """A whole number in [low, high] written in ASCII digits (spaces around allowed), else None."""
    text = text.strip()
    if not ASCII_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def valid_location(latitude: float, longitude: float) -> bool:
    """A point on the globe (Telegram clients send nothing else; a forged update might)."""
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


class Greeting(StrEnum):
    HELLO = "hello"
    THANKS = "thanks"


# Words that are only a greeting or a thank-you: a message made of nothing else is not a problem
# to report. Matched longest first (你好啊 before 你好); particles may follow any of them.
_GREETINGS = {
    Greeting.HELLO: (
        "你好", "您好", "你们好", "大家好", "老师好", "哈喽", "嗨", "在吗", "在不在", "有人吗",
        "有人在吗", "早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "早", "请问", "喂",
        "hello", "hi", "hey", "goodmorning", "goodafternoon", "goodevening", "anyonethere",
    ),
    Greeting.THANKS: (
        "谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "非常感谢", "辛苦了", "辛苦", "麻烦了",
        "好的", "好", "嗯", "嗯嗯", "收到", "知道了", "明白", "明白了", "没事了", "再见", "拜拜",
        "晚安", "ok", "okay", "thanks", "thankyou", "thx", "bye", "goodnight", "great",
        "👍", "🙏", "👌", "😊", "🌹", "💐",
    ),
}  # fmt: skip
_PARTICLES = ("啊", "呀", "哈", "吗", "呢", "哦", "噢", "啦", "了")
_WORDS = sorted(
    ((word, kind) for kind, words in _GREETINGS.items() for word in words),
    key=lambda pair: -len(pair[0]),
)
_SEPARATORS = re.compile(r"[\s,.!?~…，。！？、～·:：;；'\"“”‘’()（）\-_]+")
MAX_GREETING = 24  # a longer message says something more


def greeting(text: str) -> Greeting | None:
    """HELLO or THANKS when the text is made only of greetings or thanks ("你好，在吗？",
    "好的谢谢"), else None. A thank-you anywhere in it makes it THANKS."""
    if len(text) > MAX_GREETING:
        return None
    rest = _SEPARATORS.sub("", text.lower())
    kinds: set[Greeting] = set()
    while rest:
        word, kind = next(((w, k) for w, k in _WORDS if rest.startswith(w)), ("", None))
        if kind is not None:
            kinds.add(kind)
        elif kinds and rest[0] in _PARTICLES:
            word = rest[0]
        else:
            return None
        rest = rest[len(word) :]
    if not kinds:
        return None
    return Greeting.THANKS if Greeting.THANKS in kinds else Greeting.HELLO
