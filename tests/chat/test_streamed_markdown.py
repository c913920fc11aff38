"""The finished Markdown blocks of a streaming reply: found as text arrives, each rendered once."""

import random

import pytest

import chat.markdown_blocks as blocks
import chat.streamed_markdown as streamed
from chat.rendering import render_markdown
from chat.streamed_markdown import StreamedBlocks, rendered_open, rendered_prefix

TABLE = "| tool | cost |\n|---|---:|\n| webox | 0 |\n"
FENCE = "```python\ndef greet():\n    return 'hi'\n```\n"


class Stream:
    """Feeds text to a StreamedBlocks as the publisher does; keeps what it rendered."""

    def __init__(self):
        self.blocks = StreamedBlocks()
        self.text = ""
        self.pieces: list[streamed.RenderedBlocks] = []

    def feed(self, *chunks: str) -> str:
        """The HTML of the blocks these chunks finished."""
        html = ""
        for chunk in chunks:
            self.text += chunk
            if self.blocks.add(chunk) and (found := self.blocks.take()) is not None:
                self.pieces.append(found)
                html += found.html
        return html

    @property
    def html(self) -> str:
        return "".join(piece.html for piece in self.pieces)

    @property
    def open_block(self) -> tuple[str, int, bool] | None:
        """The open block as a page holds it after these pieces: its HTML (rows and code lines added in
        place), where its text ends and whether the text after goes in its code; None if there is none."""
        shown = None
        for piece in self.pieces:
            if piece.end > piece.start:
                shown = None
            if piece.open is None:
                continue
            block = piece.open
            if not block.append:
                shown = (block.html, block.end, block.in_code) if block.html else None
                continue
            html, _, in_code = shown
            closing = html.rindex("</code>" if in_code else "</tbody>")
            shown = (html[:closing] + block.html + html[closing:], block.end, in_code)
        return shown


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """Every text the module renders."""
    seen: list[str] = []

    def counting(text):
        seen.append(text)
        return render_markdown(text)

    monkeypatch.setattr(streamed, "render_markdown", counting)
    return seen


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every text the module parses."""
    seen: list[str] = []
    parser = blocks.block_parser()

    class Counting:
        def parse(self, text):
            seen.append(text)
            return parser.parse(text)

    monkeypatch.setattr(blocks, "block_parser", lambda: Counting())
    return seen


def test_a_table_is_rendered_once_the_next_block_begins():
    stream = Stream()
    assert stream.feed("Here:\n\n", "| tool | cost |\n", "|---|---:|\n", "| webox | 0 |\n") == "<p>Here:</p>\n"
    assert stream.feed("| more ") == ""  # the next row, maybe
    assert stream.feed("| 1 |\n", "\n", "  ") == ""
    html = stream.feed("After")  # after a blank line, whatever this line becomes, the table is over
    assert html.startswith("<table>") and "<td>webox</td>" in html and "<td>more</td>" in html
    assert stream.text[stream.blocks.upto:] == "  After"


def test_headings_rules_and_closed_fences_are_over_as_soon_as_the_next_line_begins():
    stream = Stream()
    assert stream.feed("## Title\n") == ""
    assert stream.feed("I") == "<h2>Title</h2>\n"
    assert stream.feed("ntro\n", "```\n", "code\n", "```\n") == "<p>Intro</p>\n"
    assert stream.feed("O").startswith("<pre><code>code")


def test_a_list_or_a_paragraph_waits_for_a_whole_line_after_it():
    stream = Stream()
    # "-" may become "- item" of the same list or a rule; "more" may go on the paragraph.
    assert stream.feed("- one\n", "\n", "-") == ""
    assert stream.feed("--\n", "para\n", "more") == "<ul>\n<li>one</li>\n</ul>\n<hr>\n"


def test_an_unclosed_fence_stays_open_until_its_closing_line_and_the_next_block():
    stream = Stream()
    assert stream.feed("Code:\n\n", "```python\n", "def greet():\n", "\n", "    return 'hi'\n") == "<p>Code:</p>\n"
    assert stream.feed("```\n", "\n") == ""  # closed, but the fence is the last block until another starts
    html = stream.feed("Done.\n")
    assert html.startswith("<pre><code") and "greet" in html and 'class="k"' in html  # highlighted
    assert stream.text[stream.blocks.upto:] == "Done.\n"


def test_a_fence_marker_that_cannot_close_the_fence_keeps_it_open():
    stream = Stream()
    stream.feed("````\n", "```\n", "~~~~\n", "  ```` not a closer\n", "\n", "text\n")
    assert stream.html == "" and stream.blocks.upto == 0
    stream.feed("   `````  \n", "after\n")
    assert stream.html.startswith("<pre><code>```\n~~~~") and stream.text[stream.blocks.upto:] == "after\n"


def test_a_list_is_one_block_until_text_outside_it_starts():
    stream = Stream()
    stream.feed("## Plan\n", "- first\n", "- second\n", "\n", "  still the second\n", "\n", "- third\n")
    assert stream.html == "<h2>Plan</h2>\n"
    stream.feed("\n", "Then a paragraph\n")
    assert stream.pieces[-1].html.startswith("<ul>") and stream.pieces[-1].html.count("<li>") == 3
    assert stream.text[stream.blocks.upto:] == "Then a paragraph\n"


def test_headings_and_rules_are_finished_by_the_line_after_them():
    stream = Stream()
    assert stream.feed("# Title\n") == ""
    assert stream.feed("Text\n") == "<h1>Title</h1>\n"
    assert stream.feed("***\n") == "<p>Text</p>\n"  # a thematic break interrupts a paragraph
    assert stream.feed("> quoted\n") == "<hr>\n"


def test_a_paragraph_that_becomes_a_setext_heading_or_a_table_is_not_rendered_as_a_paragraph():
    stream = Stream()
    assert stream.feed("Title\n") == ""
    assert stream.feed("=====\n") == ""
    assert stream.feed("Some text\n") == "<h1>Title</h1>\n"
    assert stream.feed("| a | b |\n") == ""  # for now the paragraph's second line
    assert stream.feed("|---|---|\n") == "<p>Some text</p>\n"  # now a table's header row
    assert stream.feed("| 1 | 2 |\n", "\n", "x\n").startswith("<table>\n<thead>\n<tr>\n<th>a</th>")


def test_text_without_a_new_line_is_never_parsed(parses):
    stream = Stream()
    stream.feed(*["word "] * 500)
    assert parses == [] and stream.html == ""


def test_a_reference_definition_applies_only_within_its_piece():
    """A known difference, documented: the final render links what the stream showed as text."""
    stream = Stream()
    stream.feed("See [the docs].\n\n", "[", "the docs]: https://example.com/docs\n\n", "End\n")
    assert stream.html == "<p>See [the docs].</p>\n"
    assert '<a href="https://example.com/docs"' in render_markdown(stream.text)


def test_each_block_of_a_long_reply_is_rendered_once_when_finished(renders, parses):
    blocks = [f"Paragraph {i} with *some* words.\n\n" if i % 4 else f"## Part {i}\n\n{TABLE}\n{FENCE}\n"
              for i in range(200)]
    text = "".join(blocks)
    stream = Stream()
    stream.feed(*(text[i:i + 7] for i in range(0, len(text), 7)))
    # Everything but the open last block, in order, each piece following the one before.
    finished = [piece for piece in stream.pieces if piece.end > piece.start]
    assert [piece.start for piece in finished] == [0, *(piece.end for piece in finished[:-1])]
    assert stream.blocks.upto == len(text) - len(blocks[-1])
    assert stream.html == render_markdown(text[:stream.blocks.upto])
    # Open tables and closed fences are rendered while open, and that HTML is what they finish with
    # (mostly: a piece that ends with more than the open block is rendered whole): at most one more
    # render of each table (its header, before its row came) and no fence highlighted twice.
    assert stream.blocks.upto < sum(map(len, renders)) <= stream.blocks.upto + 50 * len(TABLE)
    # The parses cover the open tail only: their total stays a small multiple of the text.
    assert sum(map(len, parses)) < 3 * len(text)


def test_a_long_code_block_is_parsed_once_not_once_per_line(parses):
    stream = Stream()
    stream.feed("Code:\n\n```python\n", *(f"x_{i} = {i}\n" for i in range(2000)), "```\n\nEnd.\n")
    assert len(parses) <= 4
    assert stream.pieces[-1].html.startswith("<pre><code") and stream.text[stream.blocks.upto:] == "End.\n"


@pytest.mark.parametrize("block", [
    "".join(f"- step {i}: a point worth making\n" for i in range(150)),
    "| step | point |\n|---|---|\n" + "".join(f"| {i} | a point worth making |\n" for i in range(150)),
])
def test_a_long_list_or_table_is_not_parsed_whole_at_every_line(parses, block):
    stream = Stream()
    stream.feed("Intro\n\n", *block.splitlines(keepends=True), "\nAfter\n")
    assert stream.html == render_markdown(f"Intro\n\n{block}\n") and stream.text[stream.blocks.upto:] == "After\n"
    # Parsed again from its last item, or from its new rows (with the header), at each line.
    assert sum(map(len, parses)) < 4 * len(stream.text)


def test_a_block_longer_than_the_limit_stops_the_streamed_rendering(monkeypatch, parses):
    monkeypatch.setattr(blocks, "LONG_BLOCK_CHARS", 200)
    rendered_prefix.cache_clear()
    stream = Stream()
    stream.feed("Intro\n\n", *(f"- item {i}\n" for i in range(40)))
    assert stream.html == "<p>Intro</p>\n" and stream.blocks.stopped
    parsed = len(parses)
    stream.feed("\nAfter the list\n\n", "More\n\n")
    assert len(parses) == parsed and stream.html == "<p>Intro</p>\n"  # no more work for this reply
    assert rendered_prefix(stream.text) == ("<p>Intro</p>\n", len("Intro\n\n"))


PIECES = ["Intro with *em*\n", "\n", "## Head\n", "- a\n", "- b\n", "\n", "  more of b\n", "\n", TABLE, "\n",
          "```py\n", "code = 1\n", "```\n", "\n", "> quote\n", "lazy\n", "\n", "    indented\n", "\n", "Foo\n",
          "===\n", "1. one\n", "2. two\n", "\n", "~~~~\n", "```\n", "still code\n", "~~~~~\n", "after\n", "***\n",
          "crlf\r\n", "\r\n", "a lone\rbreak\n", "\n", "text\n", "- a list interrupts\n", "```\n", "open fence\n",
          # Long lists and tables are parsed again from their last item or their new rows only.
          "* star\n", "3) paren\n", "  - nested\n", "    - deeper\n", "  ```\n", "-    far\n", "  > quote in item\n",
          "| x |\n", "| 1 | 2 | 3 | 4 |\n", "no pipe row\n", "|---|\n", "| `a|b` | c |\n", "text | with pipe\n", "  \n",
          # Link reference definitions, with titles over lines: they must not move where blocks start.
          "[foo]: /url\n", "see [foo]\n", "'a title\n", "that ends'\n", "[bar]:\n", "/u\n"]


@pytest.mark.parametrize("limit", [blocks.LONG_BLOCK_CHARS, 120, 40])
def test_a_reader_of_the_whole_text_finds_what_the_stream_rendered(monkeypatch, limit):
    """Snapshots and REST reads work the prefix out from the text alone: it must match the stream's."""
    monkeypatch.setattr(blocks, "LONG_BLOCK_CHARS", limit)
    rendered_prefix.cache_clear()
    rng = random.Random(limit)
    for _ in range(200):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(3, 40)))
        stream = Stream()
        at = 0
        while at < len(text):
            size = rng.randint(1, 15)
            stream.feed(text[at:at + size])
            at += size
            html, upto = rendered_prefix(stream.text)
            assert upto == stream.blocks.upto, repr(stream.text)
            # The same HTML too, but where a reference is used in one piece and defined in another.
            assert html == stream.html or "]:" in stream.text, repr(stream.text)
        # What the page shows while streaming is the start of the final render.
        assert render_markdown(text).startswith(stream.html) or "]:" in text, repr(text)


def test_pieces_follow_each_other_and_count_characters_as_python_does():
    stream = Stream()
    stream.feed("😀 émoji first\r\n\r\n", "second\n\n", "third\n")
    assert [(p.start, p.end) for p in stream.pieces] == [(0, 17), (17, 25)]
    assert stream.text[17:25] == "second\n\n" and stream.text[stream.blocks.upto:] == "third\n"


def test_rendered_blocks_are_sanitised_like_the_final_render():
    payload = ("<img src=x onerror=alert(1)> [x](javascript:alert(1)) <script>alert(2)</script> "
               '<a href="javascript:alert(3)">link</a>')
    stream = Stream()
    stream.feed(f"{payload}\n\n", f"| {payload} |\n|---|\n| cell |\n\n", "end\n")
    html = stream.html
    assert "<table>" in html and "&lt;script&gt;alert(2)" in html and "&lt;img src=x" in html
    for injected in ("<script", "<img", "<a href=\"javascript", "onerror=\""):
        assert injected not in html
    assert html == render_markdown(stream.text[:stream.blocks.upto])


def open_of(text: str) -> tuple[str, int, bool] | None:
    """What a snapshot of this text shows as its open block."""
    block = rendered_open(text)
    return (block.html, block.end, block.in_code) if block else None


def same_html(one, other) -> bool:
    # Added rows come without the line breaks the renderer puts between tags (which show nothing).
    return (one and (one[0].replace("\n", ""), *one[1:])) == (other and (other[0].replace("\n", ""), *other[1:]))


@pytest.mark.parametrize(("text", "html", "in_code"), [
    ("```\nx = 1\n", "<pre><code>x = 1\n</code></pre>\n", True),
    # Not highlighted while open: Pygments would read the whole block again at every line.
    ("Some code:\n\n```python\nif a < b:\n    go()\n",
     '<pre><code class="language-python">if a &lt; b:\n    go()\n</code></pre>\n', True),
    ("| a | b |\n|---|:-:|\n",
     '<table>\n<thead>\n<tr>\n<th>a</th>\n<th style="text-align:center">b</th>\n</tr>\n</thead>\n</table>\n', False),
    ("| a | b |\n|---|:-:|\n| *1* | 2 |\n",
     '<table>\n<thead>\n<tr>\n<th>a</th>\n<th style="text-align:center">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n'
     '<td><em>1</em></td>\n<td style="text-align:center">2</td>\n</tr>\n</tbody>\n</table>\n', False),
    ("1. Run:\n   ```sh\n   ls -l\n",
     '<ol>\n<li>Run:<pre><code class="language-sh">ls -l\n</code></pre>\n</li>\n</ol>\n', True),
])
def test_an_open_fence_or_table_is_rendered_while_open(text, html, in_code):
    assert open_of(text) == (html, len(text), in_code)
    stream = Stream()
    stream.feed(*text.splitlines(keepends=True))
    assert same_html(stream.open_block, open_of(text))


def test_a_table_header_alone_is_a_paragraph_still_text():
    assert open_of("Compare:\n\n| a | b |\n") is None
    assert open_of("Compare:\n\n| a | b |\n|---") is None


def test_a_closed_fence_is_shown_highlighted_then_finished_as_it_was():
    fence = "```python\ndef f():\n    return 1\n```\n"
    stream = Stream()
    stream.feed(fence)
    html, end, in_code = stream.open_block
    assert html == render_markdown(fence) and '<span class="k">def</span>' in html
    assert (end, in_code) == (len(fence), False)
    # Text after the fence: it is finished, as it was shown, and the open block is gone.
    stream.feed("\n", "After")
    assert stream.html == html and stream.open_block is None and stream.blocks.upto == len(fence) + 1
    assert open_of(stream.text) is None and rendered_prefix(stream.text) == (html, len(fence) + 1)


def test_text_after_an_open_fence_goes_on_inside_it_and_a_payload_stays_text():
    stream = Stream()
    stream.feed("```html\n", "<script>alert(1)</script>\n", "<img src=x onerror=alert(2)>")
    html, end, in_code = stream.open_block
    assert html == '<pre><code class="language-html">&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>\n'
    assert in_code and stream.text[end:] == "<img src=x onerror=alert(2)>"


def test_only_the_new_lines_of_an_open_fence_or_table_are_rendered(renders):
    stream = Stream()
    stream.feed("```\n", *(f"line {i}\n" for i in range(50)))
    assert [len(piece.open.html) for piece in stream.pieces[2:]] == [len(f"line {i}\n") for i in range(1, 50)]
    table = Stream()
    table.feed("| n |\n|---|\n", *(f"| {i} |\n" for i in range(50)))
    # The header and delimiter again with each new row, never the rows before it.
    assert max(map(len, renders)) == len("| n |\n|---|\n| 49 |\n")


def test_what_a_reader_shows_open_is_what_the_stream_showed():
    rng = random.Random(7)
    parts = ["Intro\n\n", "```python\nx = 1\n\ny = 2\n```\n", "\n", "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n",
             "\n", "- item\n  ```\n  code\n  ```\n", "\nEnd\n"]
    for _ in range(60):
        text = "".join(rng.sample(parts, len(parts)))
        stream = Stream()
        at = 0
        while at < len(text):
            size = rng.randint(1, 12)
            stream.feed(text[at:at + size])
            at += size
            assert same_html(stream.open_block, open_of(stream.text)), repr(stream.text)
