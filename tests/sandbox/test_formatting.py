"""Parse modes: entities as Telegram computes them, errors as Telegram words them."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.client import SimulatedUser
from sandbox.formatting import format_text, to_html
from tests.sandbox.conftest import BotApi

PARSE_ERRORS = [
    ("HTML", "a < b", 'Unsupported start tag "" at byte offset 2'),
    ("HTML", "<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
    ("HTML", "任务<foo>", 'Unsupported start tag "foo" at byte offset 6'),  # bytes, not chars
    ("HTML", "<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
    ("HTML", "<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("HTML", "x</b>", "Unexpected end tag at byte offset 1"),
    ("HTML", "<b", "Unclosed start tag at byte offset 0"),
    ("HTML", "<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    (
        "HTML",
        '<a href="x" title>y</a>',
        'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
    ),
    (
        "MarkdownV2",
        "done.",
        "Character '.' is reserved and must be escaped with the preceding '\\'",
    ),
    ("MarkdownV2", "*bold", "Can't find end of Bold entity at byte offset 0"),
    ("MarkdownV2", "a _b", "Can't find end of Italic entity at byte offset 2"),
    ("MarkdownV2", "[x](http://a", "Can't find end of a URL at byte offset 4"),
    ("Markdown", "*b", "Can't find end of the entity starting at byte offset 0"),
]


@pytest.mark.parametrize(("mode", "text", "error"), PARSE_ERRORS)
async def test_parse_errors_read_as_telegrams(
    bot_api: BotApi, alice: SimulatedUser, mode: str, text: str, error: str
) -> None:
    status, description = await bot_api.error(
        "sendMessage", chat_id=alice.id, text=text, parse_mode=mode
    )
    assert status == 400
    assert description == f"Bad Request: can't parse entities: {error}"


async def test_html_entities_are_in_utf16_units_and_text_is_unescaped(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    message = await bot_api.ok(
        "sendMessage",
        chat_id=alice.id,
        text="😀 <b>兴庆区</b> &lt;ok&gt; <a href='https://example.org'>link</a>",
        parse_mode="HTML",
    )
    assert message["text"] == "😀 兴庆区 <ok> link"
    assert message["entities"] == [
        {"offset": 3, "length": 3, "type": "bold"},  # the emoji is two UTF-16 units
        {"offset": 12, "length": 4, "type": "text_link", "url": "https://example.org"},
    ]


def test_markdown_v2_entities() -> None:
    formatted = format_text("*b* _i_ __u__ ~s~ ||sp|| `c` [l](http://x.org) a\\.b", "MarkdownV2")
    assert formatted.text == "b i u s sp c l a.b"
    kinds = [(e["type"], e["offset"], e["length"]) for e in formatted.entities]
    assert kinds == [
        ("bold", 0, 1),
        ("italic", 2, 1),
        ("underline", 4, 1),
        ("strikethrough", 6, 1),
        ("spoiler", 8, 2),
        ("code", 11, 1),
        ("text_link", 13, 1),
    ]


def test_pre_with_a_language_becomes_one_entity() -> None:
    html_pre = format_text('<pre><code class="language-python">x = 1</code></pre>', "HTML")
    v2_pre = format_text("```python\nx = 1\n```", "MarkdownV2")
    expected = [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]
    assert html_pre.entities == expected
    assert (v2_pre.text, v2_pre.entities) == ("x = 1", expected)


def test_text_is_trimmed_and_commands_links_and_mentions_are_found() -> None:
    formatted = format_text("  /start abc @someone https://x.org/a. #tag \n", None)
    assert formatted.text == "/start abc @someone https://x.org/a. #tag"
    assert [e["type"] for e in formatted.entities] == ["bot_command", "mention", "url", "hashtag"]


def test_escaped_user_text_always_parses_back_to_itself() -> None:
    text = 'a < b && c > d "quoted" </b> <script>'
    assert format_text(html.escape(text, quote=False), "HTML").text == text


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60))
def test_any_escaped_text_parses_without_error(text: str) -> None:
    formatted = format_text(html.escape(text), "HTML")
    assert formatted.text == text.strip(" \t\r\n\x0b\x0c")


_TAGS = st.sampled_from(["b", "i", "u", "s", "code", "tg-spoiler"])
_PLAIN = st.text(alphabet="ab 中😀<&>", min_size=1, max_size=6).map(html.escape)


@st.composite
def _html_fragments(draw: st.DrawFn, depth: int = 2) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth and draw(st.booleans()):
            tag = draw(_TAGS)
            parts.append(f"<{tag}>{draw(_html_fragments(depth - 1))}</{tag}>")
        else:
            parts.append(draw(_PLAIN))
    return "".join(parts)


@given(_html_fragments())
def test_rendering_entities_back_to_html_round_trips(fragment: str) -> None:
    formatted = format_text(f"x{fragment}x", "HTML")
    again = format_text(to_html(formatted.text, formatted.entities), "HTML")
    assert again == formatted


def test_overlapping_entities_still_render_well_formed_html() -> None:
    entities = [
        {"offset": 0, "length": 3, "type": "bold"},
        {"offset": 1, "length": 3, "type": "italic"},
    ]
    rendered = to_html("abcd", entities)
    assert rendered == "<b>a</b><b><i>bc</i></b><i>d</i>"
    assert format_text(rendered, "HTML").text == "abcd"
