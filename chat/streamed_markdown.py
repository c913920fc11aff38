"""The Markdown of a reply that is still streaming: its finished top-level blocks, each rendered once.

While a reply streams, the page shows its finished blocks as HTML rendered here with
``render_markdown`` (the same parser, the same sanitiser as the final ``content_html``) and only the
open last block as plain text. A top-level block (paragraph, heading, list, table, fence, quote…)
is finished once the next one has started — a whole line of it, or just its first character after
a heading, a rule, a closed fence, or a blank line that ends a paragraph, table or quote — since
text that comes later cannot change it then.

Where the finished blocks end is therefore a function of the text alone: the publisher finds it as
the text arrives (``StreamedBlocks``), and a snapshot or a REST read of an active reply works out
the same offset from the whole text (``rendered_prefix``). A page that joins mid-stream and one that
watched from the start hold the same prefix.

Cost per reply, bounded: a block is parsed (block rules only, no inline pass) while it is the open
tail, at flushes that complete or begin a line, and rendered once when it is finished. Two rules
keep long blocks cheap:

- an open fence is not parsed again until a line that could close it arrives, so a long code block
  costs one parse, not one per line;
- a list, table or paragraph is parsed again from its last item, its new rows or its last line;
- any block longer than ``LONG_BLOCK_CHARS`` but a fence (a quote: ``LONG_QUOTE_CHARS``) stops the
  streamed rendering of that reply: it and what follows stay plain text until the final render.

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

from .rendering import block_parser, render_markdown

LONG_BLOCK_CHARS = 8_000
# A quote is parsed again whole at every new line (its inner blocks decide how it goes on), so less.
LONG_QUOTE_CHARS = 2_000

# markdown-it's line breaks (it turns \r\n and a lone \r into \n before parsing).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class RenderedBlocks:
    """Blocks finished by new text: ``html`` renders the reply's ``text[start:end]``."""

    start: int
    end: int
    html: str


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
        return _Split(finished, fence_closer=closer, ends_itself=ends_itself, skip=skip)
    return _Split(0)


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
    lines = text[: text.rfind("\n") + 1]
    finished = _split(lines, _has_content(text[len(lines):])).finished
    return (render_markdown(text[:finished]), finished) if finished else ("", 0)


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
        """The blocks finished since the last call, rendered; None when none finished."""
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
            return None
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
        if not finished:
            return None
        start = self.upto
        self.upto += finished
        return RenderedBlocks(start, self.upto, render_markdown(text[:finished]))
