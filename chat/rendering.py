"""Markdown to safe HTML, on the server: markdown-it-py renders, Pygments highlights, nh3 sanitises."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .mathml import MATHML_ATTRIBUTES, MATHML_TAGS, use_math

_FORMATTER = HtmlFormatter(nowrap=True, classstyle=True)

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
} | MATHML_TAGS
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "span": {"class"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
} | MATHML_ATTRIBUTES


def _highlight(code: str, language: str, _attrs) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes it as plain text
    return highlight(code, lexer, _FORMATTER)


def _new_markdown(highlight=_highlight) -> MarkdownIt:
    # html=False: raw HTML in a reply is shown as text, never interpreted.
    # $…$ and $$…$$ as MathML (chat/mathml.py).
    return use_math(MarkdownIt("commonmark", {"html": False, "highlight": highlight}).enable(
        ["table", "strikethrough"]))


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return _new_markdown()


@lru_cache(maxsize=1)
def _unhighlighted_markdown() -> MarkdownIt:
    return _new_markdown(highlight=None)


@lru_cache(maxsize=1)
def block_parser() -> MarkdownIt:
    """``render_markdown``'s parser without its inline pass: where a text's blocks start, at a third of the cost.

    Link reference definitions read as paragraphs here: where one ends may depend on lines still
    to come (a title over several lines), a paragraph's end never does.
    """
    parser = _new_markdown()
    parser.core.ruler.enableOnly(["normalize", "block"])
    parser.block.ruler.disable("reference")
    return parser


def render_markdown(text: str) -> str:
    """Sanitised HTML for a reply; safe to insert into a page as it is."""
    return _clean(_markdown().render(text or ""))


def render_open_markdown(text: str) -> str:
    """``render_markdown`` without highlighting, for an open code fence of a streaming reply.

    Pygments reads a code block whole, so highlighting one that is still growing would cost a pass
    over all of it at every new line; its code is highlighted once, when the fence closes.
    """
    return _clean(_unhighlighted_markdown().render(text or ""))


def _clean(html: str) -> str:
    return _cleaner().clean(html)


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    # Built once: ``nh3.clean`` builds its allow-lists again at every call (hundreds of µs with MathML's).
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


def highlight_css() -> str:
    """Pygments' colours for highlighted code, for the page's stylesheet."""
    return _FORMATTER.get_style_defs(".md pre code")


def markdown_to_plain(text: str) -> str:
    """The words of a Markdown text without its marks (``**``, table pipes, fences, link targets).

    For previews, titles and search snippets, which are shown as plain text. An image counts as
    its alt text.
    """
    parts: list[str] = []
    for token in _markdown().parse(text or ""):
        if token.type == "inline":
            parts.extend(" " if child.type.endswith("break") else child.content for child in token.children or ()
                         if child.type in ("text", "code_inline", "softbreak", "hardbreak", "image", "math_inline",
                                           "math_inline_double"))
            parts.append(" ")
        elif token.type in ("fence", "code_block", "math_block"):
            parts.extend((token.content, " "))
    return " ".join("".join(parts).split())
