"""The Markdown of a reply that is still streaming: its finished top-level blocks, each rendered once.

While a reply streams, the page shows its finished blocks as HTML rendered here with
``render_markdown`` (the same parser, the same sanitiser as the final ``content_html``), then the
open last block: rendered too when it is a code fence, a table (once its header and delimiter rows
are in) or a block holding a fence (``OpenBlock``), plain text otherwise. A top-level block
(paragraph, heading, list, table, fence, quote…) is finished once the next one has started — a
whole line of it, or just its first character after a heading, a rule, a closed fence, or a blank
line that ends a paragraph, table or quote — since text that comes later cannot change it then.

Where the finished blocks end is therefore a function of the text alone: the publisher finds it as
the text arrives (``StreamedBlocks``), and a snapshot or a REST read of an active reply works out
the same offset from the whole text (``rendered_prefix``, and ``rendered_open`` for the open block).
A page that joins mid-stream and one that watched from the start hold the same prefix and open block.

Cost per reply, bounded: a block is parsed (block rules only, no inline pass) while it is the open
tail, at flushes that complete or begin a line, and rendered once when it is finished. Two rules
keep long blocks cheap:

- an open fence is not parsed again until a line that could close it arrives, so a long code block
  costs one parse, not one per line;
- a list, table or paragraph is parsed again from its last item, its new rows or its last line;
- any block longer than ``LONG_BLOCK_CHARS`` but a fence (a quote: ``LONG_QUOTE_CHARS``) stops the
  streamed rendering of that reply: it and what follows stay plain text until the final render.

An open block shown rendered costs no more than linear: an open fence's new lines are rendered
alone (unhighlighted: Pygments runs once, when it closes) and added to its code; a table's new rows
are rendered after its header and delimiter rows alone and added to its body; a closed fence or a
table is finished with the HTML it was shown with. Only a list or quote holding a fence is rendered
whole at each new line, within ``LONG_BLOCK_CHARS``.

Known difference: a link reference definition applies only within the rendered piece it arrives in
(a piece is the blocks one flush finished; a reader renders its whole prefix at once), so a link
to one defined later shows as text until the final render. Where blocks start never depends on
one (``block_parser`` reads them as paragraphs). ``content_html`` replaces everything at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS

from .rendering import block_parser, render_markdown, render_open_markdown

LONG_BLOCK_CHARS = 8_000
# A quote is parsed again whole at every new line (its inner blocks decide how it goes on), so less.
LONG_QUOTE_CHARS = 2_000

# markdown-it's line breaks (it turns \r\n and a lone \r into \n before parsing).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class OpenBlock:
    """The open last block of a streaming reply, rendered, when it is a code fence or a table.

    ``html`` renders the reply's text from the finished blocks' end up to ``end`` (whole lines);
    with ``append``, it is only the lines since the last one: code lines to add to its last
    ``code`` element, or rows to add to its table's ``tbody``. ``html`` empty and not ``append``:
    the block shown open is no longer one to render (the page shows its text). ``in_code``: the
    text after ``end`` goes on inside the block's last code element.
    """

    end: int
    html: str
    append: bool = False
    in_code: bool = False

    def as_event(self) -> dict:
        return {"end": self.end, "html": self.html, "append": self.append, "in_code": self.in_code}


@dataclass(frozen=True)
class RenderedBlocks:
    """Blocks finished by new text: ``html`` renders the reply's ``text[start:end]``; then the open block."""

    start: int
    end: int
    html: str
    open: OpenBlock | None = None


class _Shape(NamedTuple):
    """An open last block rendered while it streams: a fence, a table, or a block holding a fence."""

    kind: str  # "fence", "table" or "nested"
    in_code: bool  # it ends inside an open fence
    head: str  # a fence's opening marker with its indent; a table's header and delimiter rows


class _Skip(NamedTuple):
    """Text of an open block that its next parse leaves out: ``text[start:end]``, the block being a ``kind``."""

    start: int = 0
    end: int = 0
    kind: str = ""


_NO_SKIP = _Skip()


@dataclass(frozen=True)
class _Split:
    finished: int  # characters of the parsed text that belong to finished blocks
    stops: bool = False  # a long block: no more blocks of this reply are rendered while it streams
    fence_closer: re.Pattern | None = None  # the open last block is a fence: the line that would close it
    # The last block is over as soon as the next line begins: a heading, a rule, a closed fence, or
    # a paragraph, table or quote after a blank line (a list or indented code may still go on).
    ends_itself: bool = False
    # What the next parse of the open last block may leave out (see ``_split``), counted from ``finished``.
    skip: _Skip = _NO_SKIP
    shape: _Shape | None = None  # the open last block, when it is rendered while open


# Blocks that a blank line after them ends for good.
_ENDED_BY_A_BLANK_LINE = {"paragraph_open", "table_open", "blockquote_open"}
_LISTS = {"bullet_list_open", "ordered_list_open"}
# markdown-it ends a table once its rows lack this many cells in all; a table within LONG_BLOCK_CHARS
# (rows of two characters at least) with this many columns at most never gets there.
_TABLE_MAX_COLUMNS = MAX_AUTOCOMPLETED_CELLS // (LONG_BLOCK_CHARS // 2 + 1)


def _split(text: str, line_begun: bool, skip: _Skip = _NO_SKIP) -> _Split:
    """Where the finished blocks of ``text`` end.

    ``text`` is whole lines, starting at a block; ``line_begun``: the line after them already
    holds more than blanks. ``skip``: a part of the open first block that cannot change how it
    goes on, so it is not parsed again: an open list's items before its last one, a paragraph's
    lines before its last one, an open table's rows already read (each row is judged alone; the
    header and delimiter rows are kept). So a long list, paragraph or table costs a parse of its
    last item, line or new rows per line, not of all of it. If what is left does not start with
    a block of the same kind, the whole text is parsed.
    """
    cut_from, cut_to, kind = skip
    shift = cut_to - cut_from
    part = text[:cut_from] + text[cut_to:]
    line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(part))]
    tokens = block_parser().parse(part)
    top = [i for i, token in enumerate(tokens) if token.level == 0 and token.nesting >= 0 and token.map]
    blocks = [(line_starts[tokens[i].map[0]], tokens[i]) for i in top]
    if shift and not (blocks and blocks[0][0] == 0 and blocks[0][1].type == kind):
        return _split(text, line_begun)  # not the block it was: parse it all

    def real(offset: int) -> int:
        return offset + shift if offset >= cut_from and shift else offset

    for i, (start, token) in enumerate(blocks):
        block_start = real(start) if i or not shift else 0
        # Before the first block there are only blank lines: nothing to render yet.
        finished = block_start if i else 0
        if token.type != "fence" and real(_extent(blocks, i, part, line_starts)) - block_start > _limit(token.type):
            return _Split(finished, stops=True)
        if i < len(blocks) - 1:
            continue
        closer = _open_fence_closer(token, part, line_starts)
        ends_itself = token.type in ("heading_open", "hr") or (token.type == "fence" and closer is None) or (
            token.type in _ENDED_BY_A_BLANK_LINE and not part[line_starts[-2]:].strip(" \t\r\n"))
        if ends_itself and line_begun:
            return _Split(len(text))
        # Only for a block right at the start of what is kept (not after the reply's leading blank lines).
        at_start = block_start == finished
        skip = _next_skip(tokens[top[-1]:], line_starts, real, cut_from, finished) if at_start else _NO_SKIP
        shape = _shape(tokens[top[-1]:], part, line_starts, closer)
        return _Split(finished, fence_closer=closer, ends_itself=ends_itself, skip=skip, shape=shape)
    return _Split(0)


def _shape(tokens: list, text: str, line_starts: list[int], closer: re.Pattern | None) -> _Shape | None:
    """How the open last block (its tokens first) is rendered while open, if it is."""
    block = tokens[0]
    first = line_starts[block.map[0]]
    if block.type == "fence":
        opener = text[first:line_starts[block.map[0] + 1]]
        indent = len(opener) - len(opener.lstrip(" "))
        return _Shape("fence", closer is not None, " " * indent + block.markup)
    if block.type == "table_open":
        return _Shape("table", False, text[first:line_starts[block.map[0] + 2]])
    fences = [token for token in tokens if token.type == "fence"]
    if not fences:
        return None
    last = fences[-1]
    lines = len(line_starts) - 1  # ``text`` is whole lines
    closing = text[line_starts[lines - 1]:].strip()
    # An approximation (the container's own indent is not checked): only where the text goes on.
    open_fence = last.map[1] >= lines and not (
        lines - 1 > last.map[0] and len(closing) >= len(last.markup) and set(closing) == {last.markup[0]})
    return _Shape("nested", open_fence, "")


def _limit(kind: str) -> int:
    return min(LONG_QUOTE_CHARS, LONG_BLOCK_CHARS) if kind == "blockquote_open" else LONG_BLOCK_CHARS


def _next_skip(tokens: list, line_starts: list[int], real, cut_from: int, finished: int) -> _Skip:
    """What the next parse of this open last block (its tokens first) may leave out, from ``finished``."""
    kind = tokens[0].type
    if kind in _LISTS:
        items = [token for token in tokens if token.type == "list_item_open" and token.level == 1]
        return _Skip(0, real(line_starts[items[-1].map[0]]) - finished, kind) if items else _NO_SKIP
    if kind == "paragraph_open":
        return _Skip(0, real(line_starts[tokens[0].map[1] - 1]) - finished, kind)
    if kind == "table_open":
        if sum(1 for token in tokens if token.type == "th_open") > _TABLE_MAX_COLUMNS:
            return _NO_SKIP
        rows_start = line_starts[tokens[0].map[0] + 2]
        # The end of the delimiter row stays where it was when the rows after it were left out.
        rows_start = rows_start if rows_start <= cut_from else real(rows_start)
        # Up to its last row: a blank line after it is no row, and must be seen again.
        rows_end = real(line_starts[tokens[0].map[1]])
        return _Skip(rows_start - finished, rows_end - finished, kind)
    return _NO_SKIP


def _extent(blocks: list, i: int, text: str, line_starts: list[int]) -> int:
    """Where block ``i`` ends, as far as the long-block rule is concerned: the most it ever held.

    Measured so, the rule gives the same answer to the publisher (which looks at some moments
    only) and to a reader of the whole text. Only a table takes a line back: its header row was
    the last line of the paragraph before it until the delimiter row came.
    """
    if i == len(blocks) - 1:
        return len(text)
    start, token = blocks[i + 1]
    if token.type == "table_open":
        header_end = line_starts[token.map[0] + 1]
        if len(_top_level(text[blocks[i][0]:header_end])) == 1:
            return header_end
    return start


def _top_level(text: str) -> list:
    return [token for token in block_parser().parse(text) if token.level == 0 and token.nesting >= 0 and token.map]


def _open_fence_closer(token, text: str, line_starts: list[int]) -> re.Pattern | None:
    if token.type != "fence":
        return None
    # CommonMark: up to 3 spaces, at least as many of the opening marker's character, then only blanks.
    closer = re.compile(rf" {{0,3}}{re.escape(token.markup[0])}{{{len(token.markup)},}}[ \t]*")
    first, end = token.map
    last_line = text[line_starts[end - 1]:line_starts[end]] if end < len(line_starts) else text[line_starts[end - 1]:]
    if end - 1 > first and closer.fullmatch(last_line.rstrip("\r\n")):
        return None  # closed: whatever comes next starts a new block
    return closer


@lru_cache(maxsize=16)
def rendered_prefix(text: str) -> tuple[str, int]:
    """The HTML of the finished blocks of a reply's text so far, and how many characters they cover.

    The same offset the publisher reached for this text (see the module docstring). Cached: every
    socket that joins a conversation mid-stream asks for the same texts.
    """
    finished = _whole_split(text).finished
    return (render_markdown(text[:finished]), finished) if finished else ("", 0)


@lru_cache(maxsize=16)
def rendered_open(text: str) -> OpenBlock | None:
    """The open block of a reply's text so far, rendered whole, if the publisher renders it while open.

    It covers the whole lines after ``rendered_prefix``'s; the page shows the rest as text.
    """
    split = _whole_split(text)
    if split.stops or split.shape is None:
        return None
    shown = _open_text(text[split.finished: text.rfind("\n") + 1], split.shape)
    render = render_open_markdown if split.shape.in_code else render_markdown
    return OpenBlock(split.finished + len(shown), render(shown), in_code=split.shape.in_code)


@lru_cache(maxsize=16)
def _whole_split(text: str) -> _Split:
    lines = text[: text.rfind("\n") + 1]
    return _split(lines, _has_content(text[len(lines):]))


def _has_content(line: str) -> bool:
    # Blank as CommonMark counts it: spaces and tabs only (a lone \r is a line break to markdown-it).
    return bool(line.strip(" \t\r"))


@dataclass
class StreamedBlocks:
    """One streaming reply's finished blocks, found as its text arrives.

    ``add`` takes every chunk the publisher flushes and is cheap (it runs on the event loop);
    ``take`` parses and renders, so the publisher calls it off the loop, and only when ``add``
    said that a line was completed or begun.
    """

    upto: int = 0  # characters of the reply in blocks already taken
    stopped: bool = False  # a long block was met (see LONG_BLOCK_CHARS)
    _lines: list[str] = field(default_factory=list)  # whole lines from ``upto`` on, already looked at
    _partial: list[str] = field(default_factory=list)  # the text after them
    _line_begun: bool = False  # the partial line holds more than blanks
    _fence_closer: re.Pattern | None = None
    _ends_itself: bool = False
    _skip: _Skip = _NO_SKIP  # what the next parse of the open last block may leave out
    _shown: _Shown | None = None  # the open block last rendered

    def add(self, chunk: str) -> bool:
        """Record the next chunk of the reply; True when ``take`` may find finished blocks."""
        if self.stopped:
            return False
        self._partial.append(chunk)
        if "\n" in chunk:
            self._line_begun = _has_content(chunk[chunk.rfind("\n") + 1:])
            return True
        if self._line_begun or not _has_content(chunk):
            return False
        self._line_begun = True
        return self._ends_itself

    def take(self) -> RenderedBlocks | None:
        """The blocks finished since the last call, rendered, and the open block if it is rendered
        while open (a fence or a table, see ``OpenBlock``); None when there is neither."""
        if self.stopped:
            return None
        partial = "".join(self._partial)
        cut = partial.rfind("\n") + 1
        new_lines, rest = partial[:cut], partial[cut:]
        self._partial = [rest] if rest else []
        line_begun = _has_content(rest)
        if not new_lines:
            if not (self._ends_itself and line_begun):
                return None
            text, split = "".join(self._lines), None
            finished = len(text)
        elif self._fence_closer is not None and not any(
                self._fence_closer.fullmatch(line) for line in _LINE_BREAK.split(new_lines)):
            self._lines.append(new_lines)  # still inside the open fence: nothing can have finished
            return self._code_lines(new_lines)
        else:
            text = "".join(self._lines) + new_lines
            split = _split(text, line_begun, self._skip)
            finished = split.finished
        self._fence_closer = split.fence_closer if split else None
        self._ends_itself = split.ends_itself if split else False
        self._skip = split.skip if split else _NO_SKIP
        if split and split.stops:
            self.stopped = True
            self._lines, self._partial = [], []
        else:
            self._lines = [text[finished:]]
        start = self.upto
        self.upto += finished
        html = self._finished_html(text[:finished]) if finished else ""
        shape = split.shape if split and not split.stops else None
        open_block = self._open(text[finished:], shape, moved=finished > 0)
        if not finished:
            return RenderedBlocks(start, start, "", open_block) if open_block else None
        return RenderedBlocks(start, self.upto, html, open_block)

    def _finished_html(self, text: str) -> str:
        shown = self._shown
        # A closed fence or a table shown open, finished as it was rendered: not rendered (highlighted) again.
        if shown and shown.text and _same_blocks(text, shown.text):
            return shown.html
        return render_markdown(text)

    def _open(self, text: str, shape: _Shape | None, moved: bool) -> OpenBlock | None:
        """The open block ``text`` (whole lines from ``upto``) rendered, or just its rows since the last time."""
        shown, self._shown = self._shown, None
        if shape is None:
            # Finished blocks replace the one shown open; otherwise say that it is not shown so any more.
            return OpenBlock(self.upto, "") if shown and not moved else None
        text = _open_text(text, shape)
        end = self.upto + len(text)
        if shown and not moved and shown.shape == shape and shown.text == text:
            self._shown = shown  # only blank lines since: nothing new to show
            return None
        if shown and not moved and shown.shape.kind == shape.kind == "table" and shown.rows:
            rows = _table_rows(shape.head + text[shown.end - self.upto:])
            if not rows:  # blank lines
                self._shown = shown
                return None
            self._shown = _Shown(shape, end, rows=True)
            return OpenBlock(end, rows, append=True)
        render = render_open_markdown if shape.in_code else render_markdown
        html = render(text)
        self._shown = _Shown(shape, end, rows="<tbody>" in html, text=text, html=html)
        return OpenBlock(end, html, in_code=shape.in_code)

    def _code_lines(self, lines: str) -> RenderedBlocks | None:
        """New lines of the open fence shown open: escaped as the renderer escapes its code, added to it."""
        shown = self._shown
        if shown is None or shown.shape.kind != "fence":
            return None
        self._shown = _Shown(shown.shape, shown.end + len(lines))
        html = render_open_markdown(f"{shown.shape.head}\n{lines}")
        code = html[html.index("<code>") + len("<code>"):html.rindex("</code>")]
        return RenderedBlocks(self.upto, self.upto, "", OpenBlock(self._shown.end, code, append=True, in_code=True))


class _Shown(NamedTuple):
    """The open block last rendered: its shape, where the text it renders ends, whether its table has rows."""

    shape: _Shape
    end: int
    rows: bool = False
    text: str = ""  # the text rendered whole (none once rows or code lines were added)
    html: str = ""


def _open_text(text: str, shape: _Shape) -> str:
    """The whole lines of an open block that it is shown with: blank lines at its end change nothing
    (but in an open fence's code), so where it ends does not depend on when they came."""
    if shape.in_code:
        return text
    kept = len(text.rstrip(" \t\r\n"))
    return text[:_LINE_BREAK.search(text, kept).end()] if kept else ""


def _same_blocks(text: str, rendered: str) -> bool:
    """``text`` is ``rendered`` and blank lines, which change no block."""
    return text.startswith(rendered) and not text[len(rendered):].strip(" \t\r\n")


def _table_rows(table: str) -> str:
    """The body rows of a table's rendering (header and delimiter rows, then the rows wanted)."""
    html = render_markdown(table)
    start, end = html.find("<tbody>"), html.rfind("</tbody>")
    return html[start + len("<tbody>"):end].strip("\n") if start >= 0 else ""
