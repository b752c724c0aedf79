"""Message text and entities: Telegram's HTML, MarkdownV2 and Markdown parse modes.

The parsers follow tdlib's (the library behind the Bot API server) so that the errors read
the same: `can't parse entities: Unsupported start tag "foo" at byte offset 3`. Offsets in
errors are UTF-8 byte offsets into the original text; entity offsets are UTF-16 code units.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field

from sandbox.errors import ApiError, bad_request

# tdlib's is_space treats the end of the text as a space: we use "" for the end.
_SPACES = {" ", "\t", "\r", "\n", "\x0b", "\x0c", ""}
_TRIM = " \t\r\n\x0b\x0c"
_HTML_TAGS = {
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
    "tg-emoji", "span", "pre", "code", "blockquote",
}  # fmt: skip
_HTML_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "s": "strikethrough",
    "strike": "strikethrough", "del": "strikethrough", "u": "underline", "ins": "underline",
    "tg-spoiler": "spoiler", "span": "spoiler", "code": "code", "pre": "pre",
    "a": "text_link", "tg-emoji": "custom_emoji", "blockquote": "blockquote",
}  # fmt: skip


@dataclass
class Entity:
    """An entity in code-point offsets while parsing; `to_json` converts to UTF-16."""

    type: str
    start: int
    end: int
    extra: dict[str, str] = field(default_factory=dict)


class ParseError(Exception):
    """A parse-mode error; becomes `Bad Request: can't parse entities: <message>`."""


def parse_error_response(error: ParseError) -> ApiError:
    return bad_request(f"can't parse entities: {error}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _at(text: str, index: int) -> str:
    return text[index] if index < len(text) else ""


# ---------------------------------------------------------------- HTML


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """tdlib's decode_html_entity: &lt; &gt; &amp; &quot; &#NN; &#xHH; (';' optional)."""
    end = pos + 1
    if _at(text, end) == "#":
        end += 1
        value, base, digits = 0, 10, "0123456789"
        if _at(text, end) == "x":
            end += 1
            base, digits = 16, "0123456789abcdefABCDEF"
        while _at(text, end) and _at(text, end) in digits:
            value = value * base + int(text[end], 16)
            end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(value)
    else:
        while _at(text, end).isascii() and _at(text, end).isalpha():
            end += 1
        names = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if text[pos + 1 : end] not in names:
            return None, pos
        char = names[text[pos + 1 : end]]
    if _at(text, end) == ";":
        end += 1
    return char, end


def _skip_spaces(text: str, i: int) -> int:
    while _at(text, i) and _at(text, i) in _SPACES:
        i += 1
    return i


def _read_attribute_value(text: str, i: int) -> tuple[str, int]:
    if _at(text, i) not in ("'", '"'):
        start = i
        while _at(text, i) and (_at(text, i).isalnum() or _at(text, i) in ".-"):
            i += 1
        if _at(text, i) not in _SPACES and _at(text, i) != ">":
            raise ParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(text, start)}"
            )
        return text[start:i].lower(), i
    quote = text[i]
    i += 1
    value: list[str] = []
    while _at(text, i) and text[i] != quote:
        if text[i] == "&":
            char, after = _decode_html_entity(text, i)
            if char is not None:
                value.append(char)
                i = after
                continue
        value.append(text[i])
        i += 1
    if _at(text, i) == quote:
        i += 1
    return "".join(value), i


def _read_start_tag(text: str, begin: int) -> tuple[str, str, int]:
    """Read `<tag attr=value ...>` from `begin`; return (tag, argument, index after '>')."""
    offset = _byte_offset(text, begin)
    i = begin + 1
    while _at(text, i) not in _SPACES and text[i] != ">":
        i += 1
    if _at(text, i) == "":
        raise ParseError(f"Unclosed start tag at byte offset {offset}")
    tag = text[begin + 1 : i].lower()
    if tag not in _HTML_TAGS:
        raise ParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
    argument = ""
    while _at(text, i) != ">":
        i = _skip_spaces(text, i)
        if _at(text, i) == ">":
            break
        name_start = i
        while _at(text, i) not in _SPACES and text[i] not in "=>":
            i += 1
        name = text[name_start:i]
        if not name:
            raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        i = _skip_spaces(text, i)
        if _at(text, i) != "=":
            raise ParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {offset}'
            )
        i = _skip_spaces(text, i + 1)
        if _at(text, i) == "":
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {offset}')
        value, i = _read_attribute_value(text, i)
        if _at(text, i) == "":
            raise ParseError(f"Unclosed start tag at byte offset {offset}")
        argument = _tag_argument(tag, name, value, argument)
    if tag == "span" and argument != "spoiler":
        raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    return tag, argument, i + 1


def _tag_argument(tag: str, name: str, value: str, current: str) -> str:
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    if tag == "blockquote" and name == "expandable":
        return "1"
    return current


def _read_end_tag(text: str, begin: int, open_tag: str) -> int:
    offset = _byte_offset(text, begin)
    i = begin + 2
    while _at(text, i) not in _SPACES and text[i] != ">":
        i += 1
    name = text[begin + 2 : i].lower()
    i = _skip_spaces(text, i)
    if _at(text, i) != ">":
        raise ParseError(f"Unclosed end tag at byte offset {offset}")
    if name and name != open_tag:
        raise ParseError(
            f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", '
            f'found "</{name}>"'
        )
    return i + 1


def _close_html_entity(
    tag: str, argument: str, start: int, out: list[str], entities: list[Entity]
) -> None:
    end = len(out)
    if end <= start:
        return  # empty entities vanish, as in Telegram
    kind = _HTML_TYPES[tag]
    extra: dict[str, str] = {}
    if tag == "a":
        extra["url"] = argument or "".join(out[start:end])
    elif tag == "code" and argument:
        extra["language"] = argument
    elif tag == "tg-emoji":
        if not argument.isdigit():
            raise ParseError("Invalid custom emoji identifier specified")
        extra["custom_emoji_id"] = argument
    elif tag == "blockquote" and argument:
        kind = "expandable_blockquote"
    elif tag == "pre" and entities:
        inner = entities[-1]
        if inner.type == "code" and (inner.start, inner.end) == (start, end):
            entities.pop()
            if "language" in inner.extra:
                extra["language"] = inner.extra["language"]
    entities.append(Entity(kind, start, end, extra))


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    entities: list[Entity] = []
    stack: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            decoded, after = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                i = after
                continue
        if char != "<":
            out.append(char)
            i += 1
            continue
        if _at(text, i + 1) != "/":
            tag, argument, i = _read_start_tag(text, i)
            stack.append((tag, argument, len(out)))
            continue
        if not stack:
            raise ParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
        tag, argument, start = stack[-1]
        i = _read_end_tag(text, i, tag)
        stack.pop()
        _close_html_entity(tag, argument, start, out, entities)
    if stack:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


# ---------------------------------------------------------------- MarkdownV2

_V2_RESERVED = "_*[]()~`>#+-=|{}.!"
_V2_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough":
    "Strikethrough", "spoiler": "Spoiler", "code": "Code", "pre": "Pre", "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}  # fmt: skip


@dataclass
class _OpenV2:
    type: str
    start: int
    byte_offset: int
    language: str = ""


def _reserved_error(char: str) -> ParseError:
    return ParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def _v2_ends(entity: _OpenV2, text: str, i: int) -> bool:
    char, following = text[i], _at(text, i + 1)
    return {
        "bold": char == "*",
        "italic": char == "_" and following != "_",
        "code": char == "`",
        "pre": text[i : i + 3] == "```",
        "text_link": char == "]",
        "custom_emoji": char == "]",
        "underline": char == "_" and following == "_",
        "strikethrough": char == "~",
        "spoiler": char == "|" and following == "|",
    }[entity.type]


def _v2_open(text: str, i: int, start: int) -> tuple[_OpenV2, int]:
    """Start an entity at text[i]; return it and the index of its last marker character."""
    char, byte_offset = text[i], _byte_offset(text, i)
    simple = {"*": "bold", "~": "strikethrough", "[": "text_link"}
    if char in simple:
        return _OpenV2(simple[char], start, byte_offset), i
    if char == "_":
        if _at(text, i + 1) == "_":
            return _OpenV2("underline", start, byte_offset), i + 1
        return _OpenV2("italic", start, byte_offset), i
    if char == "|" and _at(text, i + 1) == "|":
        return _OpenV2("spoiler", start, byte_offset), i + 1
    if char == "!" and _at(text, i + 1) == "[":
        return _OpenV2("custom_emoji", start, byte_offset), i + 1
    if char == "`":
        if text[i : i + 3] != "```":
            return _OpenV2("code", start, byte_offset), i
        return _v2_open_pre(text, i + 3, start, byte_offset)
    raise _reserved_error(char)


def _v2_open_pre(text: str, i: int, start: int, byte_offset: int) -> tuple[_OpenV2, int]:
    entity = _OpenV2("pre", start, byte_offset)
    end = i
    while _at(text, end) not in _SPACES and text[end] != "`":
        end += 1
    if end != i and end < len(text) and text[end] != "`":
        entity.language, i = text[i:end], end
    if _at(text, i) in ("\n", "\r"):
        pair = _at(text, i + 1) in ("\n", "\r") and text[i] != _at(text, i + 1)
        i += 2 if pair else 1
    return entity, i - 1


def _v2_close(entity: _OpenV2, text: str, i: int, out: list[str], entities: list[Entity]) -> int:
    """Close `entity` at text[i]; return the index of its last marker character."""
    extra: dict[str, str] = {}
    if entity.type in ("underline", "spoiler"):
        i += 1
    elif entity.type == "pre":
        i += 2
        if entity.language:
            extra["language"] = entity.language
    elif entity.type in ("text_link", "custom_emoji"):
        url, i = _v2_read_url(text, i, "".join(out[entity.start :]))
        key = "url" if entity.type == "text_link" else "custom_emoji_id"
        extra[key] = url
        if entity.type == "custom_emoji" and not url.startswith("tg://emoji?id="):
            raise ParseError("Custom emoji URL must have an emoji identifier")
        if entity.type == "custom_emoji":
            extra[key] = url.removeprefix("tg://emoji?id=")
    if len(out) > entity.start:
        entities.append(Entity(entity.type, entity.start, len(out), extra))
    return i


def _v2_read_url(text: str, i: int, fallback: str) -> tuple[str, int]:
    if _at(text, i + 1) != "(":
        return fallback, i
    i += 2
    begin = i
    url: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and 0 < ord(_at(text, i + 1) or "\0") <= 126:
            url.append(text[i + 1])
            i += 2
            continue
        url.append(text[i])
        i += 1
    if _at(text, i) != ")":
        raise ParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, begin)}")
    return "".join(url), i


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    entities: list[Entity] = []
    stack: list[_OpenV2] = []
    quote_start: int | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and 0 < ord(_at(text, i + 1) or "\0") <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        in_code = bool(stack) and stack[-1].type in ("code", "pre")
        line_start = i == 0 or text[i - 1] == "\n"
        if char == ">" and line_start and not in_code:
            quote_start = len(out) if quote_start is None else quote_start
            i += 1
            continue
        if char == "\n" and quote_start is not None and _at(text, i + 1) != ">":
            if len(out) > quote_start:
                entities.append(Entity("blockquote", quote_start, len(out)))
            quote_start = None
        reserved = "`" if in_code else _V2_RESERVED
        if char not in reserved:
            out.append(char)
            i += 1
            continue
        if stack and _v2_ends(stack[-1], text, i):
            i = _v2_close(stack.pop(), text, i, out, entities) + 1
            continue
        entity, i = _v2_open(text, i, len(out))
        stack.append(entity)
        i += 1
    if stack:
        entity = stack[-1]
        name = "PreCode" if entity.language else _V2_NAMES[entity.type]
        raise ParseError(f"Can't find end of {name} entity at byte offset {entity.byte_offset}")
    if quote_start is not None and len(out) > quote_start:
        entities.append(Entity("blockquote", quote_start, len(out)))
    return "".join(out), entities


# ---------------------------------------------------------------- Markdown (legacy)


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    entities: list[Entity] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and _at(text, i + 1) in ("_", "*", "`", "["):
            out.append(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            i += 1
            continue
        i = _markdown_entity(text, i, out, entities)
    return "".join(out), entities


def _markdown_entity(text: str, begin: int, out: list[str], entities: list[Entity]) -> int:
    char = text[begin]
    end_char = "]" if char == "[" else char
    i = begin + 1
    is_pre = char == "`" and text[i : i + 2] == "``"
    language = ""
    if is_pre:
        pre, last = _v2_open_pre(text, i + 2, 0, 0)
        language, i = pre.language, last + 1
    start = len(out)
    while i < len(text) and (text[i] != end_char or (is_pre and text[i + 1 : i + 3] != "``")):
        out.append(text[i])
        i += 1
    if i == len(text):
        offset = _byte_offset(text, begin)
        raise ParseError(f"Can't find end of the entity starting at byte offset {offset}")
    extra: dict[str, str] = {}
    kind = {"_": "italic", "*": "bold", "[": "text_link", "`": "pre" if is_pre else "code"}[char]
    if char == "[":
        url = "".join(out[start:])
        if _at(text, i + 1) == "(":
            close = text.find(")", i + 2)
            close = len(text) if close < 0 else close
            url, i = text[i + 2 : close], close
        extra["url"] = url
    if language:
        extra["language"] = language
    if len(out) > start:
        entities.append(Entity(kind, start, len(out), extra))
    return i + (3 if is_pre else 1)


# ---------------------------------------------------------------- entities and UTF-16


def _utf16_prefix(text: str) -> list[int]:
    """prefix[i] = UTF-16 offset of code point i (len(text) + 1 entries)."""
    prefix = [0]
    for char in text:
        prefix.append(prefix[-1] + (2 if ord(char) > 0xFFFF else 1))
    return prefix


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The piece of `text` an entity covers (its offset and length are UTF-16 units)."""
    encoded = text.encode("utf-16-le")
    return encoded[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _entity_json(entity: Entity, prefix: list[int]) -> dict[str, object]:
    offset = prefix[entity.start]
    return {
        "offset": offset,
        "length": prefix[entity.end] - offset,
        "type": entity.type,
        **entity.extra,
    }


def _trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    left = len(text) - len(text.lstrip(_TRIM))
    stripped = text.strip(_TRIM)
    right = left + len(stripped)
    kept = []
    for entity in entities:
        start, end = max(entity.start, left) - left, min(entity.end, right) - left
        if end > start:
            kept.append(Entity(entity.type, start, end, entity.extra))
    return stripped, kept


# Entities Telegram finds by itself in any text (bot's or user's).
_AUTO_PATTERNS = [
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?<![\w@/])(?:https?://)[^\s<>\"]+[^\s<>\".,;:!?)\]']")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
]
_NO_AUTO_INSIDE = {"code", "pre", "text_link", "url", "email", "bot_command", "mention"}


def _auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    taken = [(e.start, e.end) for e in entities if e.type in _NO_AUTO_INSIDE]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            found.append(Entity(kind, *span))
    return found


@dataclass
class FormattedText:
    text: str
    entities: list[dict[str, object]]


def _from_json_entities(text: str, raw: list[dict[str, object]]) -> list[Entity]:
    """User-given entities (UTF-16 offsets) back to code points; out-of-range ones dropped."""
    if not raw:
        return []
    prefix = _utf16_prefix(text)
    index = {offset: i for i, offset in enumerate(prefix)}
    entities = []
    for item in raw:
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
            continue
        start, end = index.get(offset), index.get(offset + length)
        if start is None or end is None or "type" not in item:
            continue
        extra = {k: v for k, v in item.items() if k not in ("offset", "length", "type")}
        entities.append(Entity(str(item["type"]), start, end, extra))  # type: ignore[arg-type]
    return entities


PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


def format_text(
    raw: str, parse_mode: str | None, entities: list[dict[str, object]] | None = None
) -> FormattedText:
    """Parse `raw` as the Bot API does: parse mode (or explicit entities), trim, detect links.

    Raises ApiError for an unknown parse mode or a parse error.
    """
    if parse_mode:
        parser = PARSERS.get(parse_mode.lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            text, found = parser(raw)
        except ParseError as error:
            raise parse_error_response(error) from None
    else:
        text, found = raw, _from_json_entities(raw, entities or [])
    text, found = _trim(text, found)
    found += _auto_entities(text, found)
    found.sort(key=lambda e: (e.start, -e.end, e.type))
    prefix = _utf16_prefix(text)
    return FormattedText(text, [_entity_json(e, prefix) for e in found])


def user_text(raw: str) -> FormattedText:
    """A user's typed text: trimmed, with commands, links and mentions detected."""
    return format_text(raw, None)


# ---------------------------------------------------------------- rendering


_HTML_OPEN = {
    "bold": "<b>", "italic": "<i>", "underline": "<u>", "strikethrough": "<s>",
    "spoiler": "<tg-spoiler>", "code": "<code>", "pre": "<pre>", "blockquote": "<blockquote>",
    "expandable_blockquote": "<blockquote expandable>",
}  # fmt: skip


def _open_tag(entity: dict[str, object]) -> tuple[str, str]:
    kind = str(entity["type"])
    if kind == "text_link":
        return f'<a href="{html.escape(str(entity.get("url", "")))}">', "</a>"
    if kind == "pre" and entity.get("language"):
        language = html.escape(str(entity["language"]))
        return f'<pre><code class="language-{language}">', "</code></pre>"
    if kind not in _HTML_OPEN:
        return "", ""
    tag = _HTML_OPEN[kind]
    return tag, "</" + tag[1:].split()[0].rstrip(">") + ">"


def _spans(text: str, entities: list[dict[str, object]]) -> list[tuple[int, int, str, str]]:
    """Entities as (start, end, open tag, close tag) in code points, outermost first."""
    index = {offset: i for i, offset in enumerate(_utf16_prefix(text))}
    spans = []
    for entity in entities:
        offset, length = int(entity["offset"]), int(entity["length"])  # type: ignore[call-overload]
        start, end = index.get(offset), index.get(offset + length)
        if start is not None and end is not None and end > start:
            spans.append((start, end, *_open_tag(entity)))
    return sorted(spans, key=lambda span: (span[0], -span[1]))


def _is_nested(spans: list[tuple[int, int, str, str]]) -> bool:
    ends: list[int] = []
    for start, end, _, _ in spans:
        while ends and ends[-1] <= start:
            ends.pop()
        if ends and end > ends[-1]:
            return False
        ends.append(end)
    return True


def to_html(text: str, entities: list[dict[str, object]]) -> str:
    """Render text + entities (UTF-16 offsets) back to Telegram HTML.

    Properly nested entities become nested tags; overlapping ones (possible with explicit
    entities) are rendered piece by piece so the HTML stays well-formed.
    """
    spans = _spans(text, entities)
    if not _is_nested(spans):
        return _to_html_pieces(text, spans)
    events: list[tuple[int, int, str]] = []  # (position, order, tag): closes before opens
    for rank, (start, end, open_, close) in enumerate(spans):
        events.append((start, 1, rank, open_))  # type: ignore[arg-type]
        events.append((end, 0, -rank, close))  # type: ignore[arg-type]
    events.sort()
    pieces, position = [], 0
    for at, *_, tag in events:
        pieces.append(html.escape(text[position:at], quote=False) + tag)
        position = at
    pieces.append(html.escape(text[position:], quote=False))
    return "".join(pieces)


def _to_html_pieces(text: str, spans: list[tuple[int, int, str, str]]) -> str:
    cuts = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    pieces = []
    for start, end in itertools.pairwise(cuts):
        covering = [s for s in spans if s[0] <= start and end <= s[1]]
        opening = "".join(s[2] for s in covering)
        closing = "".join(s[3] for s in reversed(covering))
        pieces.append(opening + html.escape(text[start:end], quote=False) + closing)
    return "".join(pieces)
