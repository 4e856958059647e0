"""Telegram's HTML parse mode, read the way the Bot API reads it (https://core.telegram.org/bots/api#html-style).

The Bot API server parses HTML with TDLib's parse_html, so this follows it rather than a browser:
only the documented tags (a stray '<', as in "1 < 2", is a start tag with no name; <br> and <p> do
not exist); <span> only with class="tg-spoiler"; attributes as name=value, name="value" or
name='value' (other attributes of a supported tag are ignored); of the named character references
only &lt; &gt; &amp; &quot; (any other, such as &nbsp;, stays in the text as written), and numeric
ones. A refusal is an EntityError, with TDLib's message and byte offset; the Bot API answers it
"400 Bad Request: can't parse entities: <message>".
"""

from __future__ import annotations

SUPPORTED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
     "span", "pre", "code", "blockquote"}
)  # fmt: skip
NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_END = "\0"  # past the end reads as NUL, as TDLib reads its C string


class EntityError(ValueError):
    """What Telegram answers as "Bad Request: can't parse entities: …"."""


def _space(ch: str) -> bool:
    return ch in " \t\r\n\v\0"  # TDLib's is_space (NUL included: a scan stops at the end)


def _alpha(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _emoji_id(argument: str) -> bool:
    return argument.isascii() and argument.isdigit() and 0 < int(argument) < 2**63


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.plain: list[str] = []

    def at(self, i: int) -> str:
        return self.text[i] if i < len(self.text) else _END

    def offset(self, i: int) -> int:
        """TDLib reports byte offsets in the UTF-8 text."""
        return len(self.text[:i].encode("utf-8", "surrogatepass"))

    def reference(self, pos: int) -> tuple[str, int] | None:
        """A character reference at pos ('&'): its character and where the text goes on; None
        when it is none Telegram knows (the '&' is then an ordinary character)."""
        end = pos + 1
        if self.at(pos + 1) == "#":
            end += 1
            digits = "0123456789"
            base = 10
            if self.at(pos + 2) == "x":
                end += 1
                digits, base = "0123456789abcdefABCDEF", 16
            start = end
            while self.at(end) != _END and self.at(end) in digits:
                end += 1
            code = int(self.text[start:end], base) if end > start else 0
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return None
            char = chr(code)
        else:
            while _alpha(self.at(end)):
                end += 1
            found = NAMED_REFERENCES.get(self.text[pos + 1 : end])
            if found is None:
                return None
            char = found
        return char, end + 1 if self.at(end) == ";" else end

    def attribute_value(self, i: int) -> tuple[str, int]:
        quote = self.at(i)
        if quote not in "'\"":
            # A name token: letters, digits, periods and hyphens, not case sensitive.
            start = i
            while _alnum(self.at(i)) or self.at(i) in ".-":
                i += 1
            if not _space(self.at(i)) and self.at(i) != ">":
                raise EntityError(
                    f"Unexpected end of name token at byte offset {self.offset(start)}"
                )
            return self.text[start:i].lower(), i
        i += 1
        value: list[str] = []
        while self.at(i) not in (quote, _END):
            if self.at(i) == "&" and (found := self.reference(i)) is not None:
                value.append(found[0])
                i = found[1]
                continue
            value.append(self.at(i))
            i += 1
        if self.at(i) == quote:
            i += 1
        return "".join(value), i

    def start_tag(self, begin: int) -> tuple[str, str, int]:
        """The tag opened at begin ('<'): its name, its argument and the index of its '>'."""
        i = begin + 1
        while not _space(self.at(i)) and self.at(i) != ">":
            i += 1
        if self.at(i) == _END:
            raise EntityError(f"Unclosed start tag at byte offset {self.offset(begin)}")
        tag = self.text[begin + 1 : i].lower()
        where = f"at byte offset {self.offset(begin)}"
        if tag not in SUPPORTED_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}" {where}')
        argument = ""
        while self.at(i) != ">":
            while self.at(i) != _END and _space(self.at(i)):
                i += 1
            if self.at(i) == ">":
                break
            name_start = i
            while not _space(self.at(i)) and self.at(i) not in "=>":
                i += 1
            name = self.text[name_start:i]
            if not name:
                raise EntityError(f'Empty attribute name in the tag "{tag}" {where}')
            while self.at(i) != _END and _space(self.at(i)):
                i += 1
            if self.at(i) != "=":  # an attribute without a value
                if self.at(i) == _END:
                    raise EntityError(f'Unclosed start tag "{tag}" {where}')
                if (tag, name) == ("blockquote", "expandable"):
                    argument = "1"
                continue
            i += 1
            while self.at(i) != _END and _space(self.at(i)):
                i += 1
            if self.at(i) == _END:
                raise EntityError(f'Unclosed start tag "{tag}" {where}')
            value, i = self.attribute_value(i)
            if self.at(i) == _END:
                raise EntityError(f"Unclosed start tag {where}")
            if (tag, name) in (("a", "href"), ("tg-emoji", "emoji-id")):
                argument = value
            elif (tag, name) == ("code", "class") and value.startswith("language-"):
                argument = value[len("language-") :]
            elif (tag, name) == ("span", "class") and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif (tag, name) == ("blockquote", "expandable"):
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise EntityError(f'Tag "span" must have class "tg-spoiler" {where}')
        return tag, argument, i

    def read(self) -> str:
        open_tags: list[tuple[str, str, int]] = []  # name, argument, where its text begins
        i = 0
        while i < len(self.text):
            ch = self.text[i]
            if ch == "&" and (found := self.reference(i)) is not None:
                self.plain.append(found[0])
                i = found[1]
                continue
            if ch != "<":
                self.plain.append(ch)
                i += 1
                continue
            begin = i
            if self.at(i + 1) != "/":
                tag, argument, i = self.start_tag(begin)
                open_tags.append((tag, argument, len(self.plain)))
                i += 1
                continue
            if not open_tags:
                raise EntityError(f"Unexpected end tag at byte offset {self.offset(begin)}")
            i += 2
            while not _space(self.at(i)) and self.at(i) != ">":
                i += 1
            name = self.text[begin + 2 : i].lower()
            while _space(self.at(i)) and self.at(i) != _END:
                i += 1
            if self.at(i) != ">":
                raise EntityError(f"Unclosed end tag at byte offset {self.offset(begin)}")
            tag, argument, start = open_tags.pop()
            if name and name != tag:
                raise EntityError(
                    f"Unmatched end tag at byte offset {self.offset(begin)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            if tag == "tg-emoji" and len(self.plain) > start and not _emoji_id(argument):
                raise EntityError("Invalid custom emoji identifier specified")
            i += 1
        if open_tags:
            raise EntityError(
                f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"'
            )
        plain = "".join(self.plain)
        if any("\ud800" <= ch <= "\udfff" for ch in plain):
            raise EntityError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return plain


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text as the recipient sees it; raises EntityError where Telegram would refuse it."""
    if (parse_mode or "").upper() != "HTML":
        return text
    return _Reader(text).read()
