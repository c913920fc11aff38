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

Finding where blocks end is ``chat.markdown_blocks``; rendering them is here. Cost per reply,
bounded: a block is parsed (block rules only, no inline pass) while it is the open
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

from .markdown_blocks import LINE_BREAK, NO_SKIP, BlockSplit, OpenShape, Skip, split_blocks
from .rendering import render_markdown, render_open_markdown


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
def _whole_split(text: str) -> BlockSplit:
    lines = text[: text.rfind("\n") + 1]
    return split_blocks(lines, _has_content(text[len(lines):]))


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
    _skip: Skip = NO_SKIP  # what the next parse of the open last block may leave out
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
                self._fence_closer.fullmatch(line) for line in LINE_BREAK.split(new_lines)):
            self._lines.append(new_lines)  # still inside the open fence: nothing can have finished
            return self._code_lines(new_lines)
        else:
            text = "".join(self._lines) + new_lines
            split = split_blocks(text, line_begun, self._skip)
            finished = split.finished
        self._fence_closer = split.fence_closer if split else None
        self._ends_itself = split.ends_itself if split else False
        self._skip = split.skip if split else NO_SKIP
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

    def _open(self, text: str, shape: OpenShape | None, moved: bool) -> OpenBlock | None:
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

    shape: OpenShape
    end: int
    rows: bool = False
    text: str = ""  # the text rendered whole (none once rows or code lines were added)
    html: str = ""


def _open_text(text: str, shape: OpenShape) -> str:
    """The whole lines of an open block that it is shown with: blank lines at its end change nothing
    (but in an open fence's code), so where it ends does not depend on when they came."""
    if shape.in_code:
        return text
    kept = len(text.rstrip(" \t\r\n"))
    return text[:LINE_BREAK.search(text, kept).end()] if kept else ""


def _same_blocks(text: str, rendered: str) -> bool:
    """``text`` is ``rendered`` and blank lines, which change no block."""
    return text.startswith(rendered) and not text[len(rendered):].strip(" \t\r\n")


def _table_rows(table: str) -> str:
    """The body rows of a table's rendering (header and delimiter rows, then the rows wanted)."""
    html = render_markdown(table)
    start, end = html.find("<tbody>"), html.rfind("</tbody>")
    return html[start + len("<tbody>"):end].strip("\n") if start >= 0 else ""
