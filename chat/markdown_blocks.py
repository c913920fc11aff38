"""Where the finished top-level blocks of a Markdown text end, and the shape of its open last block.

The parsing half of ``chat.streamed_markdown`` (read its docstring first; the rendering half is
there): block rules only, no inline pass, no HTML. ``split_blocks`` also says what the next parse
of the open last block may leave out (``skip``), the line that would close an open fence
(``fence_closer``), and when a block is too long to render while it streams (``stops``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS

from .rendering import block_parser

LONG_BLOCK_CHARS = 8_000
# A quote is parsed again whole at every new line (its inner blocks decide how it goes on), so less.
LONG_QUOTE_CHARS = 2_000

# markdown-it's line breaks (it turns \r\n and a lone \r into \n before parsing).
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class OpenShape(NamedTuple):
    """An open last block rendered while it streams: a fence, a table, or a block holding a fence."""

    kind: str  # "fence", "table" or "nested"
    in_code: bool  # it ends inside an open fence
    head: str  # a fence's opening marker with its indent; a table's header and delimiter rows


class Skip(NamedTuple):
    """Text of an open block that its next parse leaves out: ``text[start:end]``, the block being a ``kind``."""

    start: int = 0
    end: int = 0
    kind: str = ""


NO_SKIP = Skip()


@dataclass(frozen=True)
class BlockSplit:
    finished: int  # characters of the parsed text that belong to finished blocks
    stops: bool = False  # a long block: no more blocks of this reply are rendered while it streams
    fence_closer: re.Pattern | None = None  # the open last block is a fence: the line that would close it
    # The last block is over as soon as the next line begins: a heading, a rule, a closed fence, or
    # a paragraph, table or quote after a blank line (a list or indented code may still go on).
    ends_itself: bool = False
    # What the next parse of the open last block may leave out (see ``split_blocks``), counted from ``finished``.
    skip: Skip = NO_SKIP
    shape: OpenShape | None = None  # the open last block, when it is rendered while open


# Blocks that a blank line after them ends for good.
_ENDED_BY_A_BLANK_LINE = {"paragraph_open", "table_open", "blockquote_open"}
_LISTS = {"bullet_list_open", "ordered_list_open"}
# markdown-it ends a table once its rows lack this many cells in all; a table within LONG_BLOCK_CHARS
# (rows of two characters at least) with this many columns at most never gets there.
_TABLE_MAX_COLUMNS = MAX_AUTOCOMPLETED_CELLS // (LONG_BLOCK_CHARS // 2 + 1)


def split_blocks(text: str, line_begun: bool, skip: Skip = NO_SKIP) -> BlockSplit:
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
    line_starts = [0, *(match.end() for match in LINE_BREAK.finditer(part))]
    tokens = block_parser().parse(part)
    top = [i for i, token in enumerate(tokens) if token.level == 0 and token.nesting >= 0 and token.map]
    blocks = [(line_starts[tokens[i].map[0]], tokens[i]) for i in top]
    if shift and not (blocks and blocks[0][0] == 0 and blocks[0][1].type == kind):
        return split_blocks(text, line_begun)  # not the block it was: parse it all

    def real(offset: int) -> int:
        return offset + shift if offset >= cut_from and shift else offset

    for i, (start, token) in enumerate(blocks):
        block_start = real(start) if i or not shift else 0
        # Before the first block there are only blank lines: nothing to render yet.
        finished = block_start if i else 0
        if token.type != "fence" and real(_extent(blocks, i, part, line_starts)) - block_start > _limit(token.type):
            return BlockSplit(finished, stops=True)
        if i < len(blocks) - 1:
            continue
        closer = _open_fence_closer(token, part, line_starts)
        ends_itself = token.type in ("heading_open", "hr") or (token.type == "fence" and closer is None) or (
            token.type in _ENDED_BY_A_BLANK_LINE and not part[line_starts[-2]:].strip(" \t\r\n"))
        if ends_itself and line_begun:
            return BlockSplit(len(text))
        # Only for a block right at the start of what is kept (not after the reply's leading blank lines).
        at_start = block_start == finished
        skip = _next_skip(tokens[top[-1]:], line_starts, real, cut_from, finished) if at_start else NO_SKIP
        shape = _shape(tokens[top[-1]:], part, line_starts, closer)
        return BlockSplit(finished, fence_closer=closer, ends_itself=ends_itself, skip=skip, shape=shape)
    return BlockSplit(0)


def _shape(tokens: list, text: str, line_starts: list[int], closer: re.Pattern | None) -> OpenShape | None:
    """How the open last block (its tokens first) is rendered while open, if it is."""
    block = tokens[0]
    first = line_starts[block.map[0]]
    if block.type == "fence":
        opener = text[first:line_starts[block.map[0] + 1]]
        indent = len(opener) - len(opener.lstrip(" "))
        return OpenShape("fence", closer is not None, " " * indent + block.markup)
    if block.type == "table_open":
        return OpenShape("table", False, text[first:line_starts[block.map[0] + 2]])
    fences = [token for token in tokens if token.type == "fence"]
    if not fences:
        return None
    last = fences[-1]
    lines = len(line_starts) - 1  # ``text`` is whole lines
    closing = text[line_starts[lines - 1]:].strip()
    # An approximation (the container's own indent is not checked): only where the text goes on.
    open_fence = last.map[1] >= lines and not (
        lines - 1 > last.map[0] and len(closing) >= len(last.markup) and set(closing) == {last.markup[0]})
    return OpenShape("nested", open_fence, "")


def _limit(kind: str) -> int:
    return min(LONG_QUOTE_CHARS, LONG_BLOCK_CHARS) if kind == "blockquote_open" else LONG_BLOCK_CHARS


def _next_skip(tokens: list, line_starts: list[int], real, cut_from: int, finished: int) -> Skip:
    """What the next parse of this open last block (its tokens first) may leave out, from ``finished``."""
    kind = tokens[0].type
    if kind in _LISTS:
        items = [token for token in tokens if token.type == "list_item_open" and token.level == 1]
        return Skip(0, real(line_starts[items[-1].map[0]]) - finished, kind) if items else NO_SKIP
    if kind == "paragraph_open":
        return Skip(0, real(line_starts[tokens[0].map[1] - 1]) - finished, kind)
    if kind == "table_open":
        if sum(1 for token in tokens if token.type == "th_open") > _TABLE_MAX_COLUMNS:
            return NO_SKIP
        rows_start = line_starts[tokens[0].map[0] + 2]
        # The end of the delimiter row stays where it was when the rows after it were left out.
        rows_start = rows_start if rows_start <= cut_from else real(rows_start)
        # Up to its last row: a blank line after it is no row, and must be seen again.
        rows_end = real(line_starts[tokens[0].map[1]])
        return Skip(rows_start - finished, rows_end - finished, kind)
    return NO_SKIP


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
