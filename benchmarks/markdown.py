"""Scenario ``markdown``: the CPU that rendering Markdown while a reply streams adds, per reply.

In process, no database or Redis: a reply's text is fed to ``chat.streamed_markdown.StreamedBlocks``
in the chunks a publisher flush would take (``add`` on every chunk, ``take`` when it says so),
and the CPU time (``time.process_time``, best of a few runs) is set against the final
``render_markdown`` of the whole text that every reply pays once anyway. It includes the open code
fence or table rendered while it grows; "HTML sent" adds up the ``html`` of every ``message.blocks``
(finished blocks and open block), which must grow with the reply, not with its square. Shapes: the mixed
Markdown reply of the ``publisher-md`` mode, the same ten times longer, long code blocks, long
single blocks near ``LONG_BLOCK_CHARS`` (a list, a table and a hard-wrapped paragraph, parsed again
from their last item, new rows or last line; a quote, parsed again whole at every line: the worst
case) and plain words (no new line: never parsed).
"""

from __future__ import annotations

import time

from testing.figures import print_table

from .streams import MARKDOWN_TOKENS

RATE = 40.0  # tokens/s per stream, as in scenario 1
STREAMS = 100  # the last column: that many replies of the shape streaming at once on one loop


def _shapes() -> dict[str, list[str]]:
    def cut(text: str) -> list[str]:
        text += " " * (-len(text) % 4)
        return [text[i:i + 4] for i in range(0, len(text), 4)]

    def code(steps: int) -> str:
        lines = "".join(f"def step_{i}(x):\n    return x * {i}\n" for i in range(steps))
        return f"Here:\n\n```python\n{lines}```\n\nDone"

    items = "Steps:\n\n" + "".join(f"- step {i}: a point worth making in a list\n" for i in range(170)) + "\nDone"
    rows = "| name | value |\n|---|---:|\n" + "".join(f"| row {i} | {i * 7} |\n" for i in range(400)) + "\nDone"
    wrapped = "Text:\n\n" + "".join(f"line {i} of a long hard-wrapped paragraph here\n" for i in range(150)) + "\nDone"
    quote = "Quote:\n\n" + "".join(f"> line {i} of a long quoted passage here\n" for i in range(150)) + "\nDone"
    return {
        "mixed, 1 kB": MARKDOWN_TOKENS,
        "mixed, 10 kB": MARKDOWN_TOKENS * 10,
        "code block, 14 kB": cut(code(400)),
        # Four times longer: the same cost per token (an open fence's new lines are rendered alone).
        "code block, 58 kB": cut(code(1600)),
        "one list, 7.5 kB": cut(items),
        "one table, 6.5 kB": cut(rows),
        "one wrapped paragraph, 7 kB": cut(wrapped),
        "one quote, 6 kB": cut(quote),
        "plain words, 4 kB": ["tok "] * 1000,
    }


def _cpu(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def main(*, quick: bool) -> None:
    from chat.rendering import render_markdown
    from chat.streamed_markdown import StreamedBlocks

    repeat = 2 if quick else 5
    # Tokens per flush: 100 streams (50 ms tick) and 500 streams (625 ms, widened by the rate cap).
    per_flush = (2, 25)
    print(f"\n## Markdown while streaming: CPU per reply, best of {repeat} (in process)")
    rows = []
    for name, tokens in _shapes().items():
        text = "".join(tokens)
        final_ms = 1000 * _cpu(lambda text=text: render_markdown(text), repeat)
        for size in per_flush:
            chunks = ["".join(tokens[i:i + size]) for i in range(0, len(tokens), size)]
            takes = []

            def stream(chunks=chunks, takes=takes):
                blocks = StreamedBlocks()
                takes.clear()
                for chunk in chunks:
                    if blocks.add(chunk):
                        takes.append(blocks.take())

            blocks_ms = 1000 * _cpu(stream, repeat)
            seconds = len(tokens) / RATE
            sent = sum(len(t.html) + (len(t.open.html) if t.open else 0) for t in takes if t)
            rows.append([name, size, len(chunks), len(takes), sum(1 for t in takes if t), blocks_ms,
                         1000 * blocks_ms / len(chunks), 1000 * blocks_ms / len(tokens), sent // 1000, final_ms,
                         blocks_ms / final_ms, 100 * STREAMS * blocks_ms / 1000 / seconds])
    print_table("Markdown while streaming", [
        "reply", "tokens per flush", "flushes", "takes (off the loop)", "blocks events", "blocks CPU ms",
        "µs per flush", "µs per token", "HTML sent kB", "final render CPU ms", "blocks / final",
        f"CPU % of a core, {STREAMS} such streams at {RATE:.0f} tok/s"], rows)
