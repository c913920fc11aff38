"""While a reply streams, the server renders an open code fence as a code block of its text so far
and a table as a table once its header and delimiter are in; the finished blocks take their place
without a jump. Finished tables scroll sideways unbroken, and "Copy code" never covers code."""

import json

import pytest
from playwright.sync_api import Page, expect

from .conftest import column, pick, send, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

STREAMING = "fake-echo;delay_ms=30;tokens=200"
CODE = "\n".join(f"value_{i} = compute({i})  # line {i}" for i in range(14))
MESSAGE = (f"Some code:\n\n```python\n{CODE}\n```\n\n"
           "| protocol | a rather long note about it |\n|---|---|\n| HTTP/1.1 | keep-alive connections |\n"
           "| HTTP/2 | multiplexed streams over one connection |\n| HTTP/3 | the same over QUIC |\n"
           "| HTTP/4 | not yet |\n\n"
           "And then some closing words to end it")

# The code block's place in its reply, sampled at every change while the reply streams.
RECORD = """() => {
  window.__code = [];
  new MutationObserver(() => {
    const reply = document.querySelector('.column[data-provider="openai"] .reply');
    const pre = reply && reply.querySelector(".reply-body pre");
    if (!pre) return;
    window.__code.push({ open: Boolean(pre.closest(".open-block")),
      highlighted: Boolean(pre.querySelector("code span")),
      top: pre.getBoundingClientRect().top - reply.getBoundingClientRect().top, text: pre.textContent });
  }).observe(document.getElementById("thread"), { subtree: true, childList: true, characterData: true });
}"""


def test_an_open_fence_and_a_table_take_their_shape_while_streaming(page: Page):
    # The socket's frames, from the page's first socket on: the HTML of the open blocks comes from the server.
    received: list[dict] = []
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda payload: received.append(json.loads(payload))))
    sign_up(page)
    page.set_viewport_size({"width": 900, "height": 900})
    pick(page, {"openai": STREAMING})
    page.evaluate(RECORD)
    send(page, MESSAGE)
    reply = column(page, "openai")
    open_code = reply.locator(".open-block pre code")
    expect(open_code).to_contain_text("value_3 = compute(3)")
    expect(reply.locator(".open-block")).not_to_contain_text("```")
    open_table = reply.locator(".open-block table")
    expect(open_table.locator("th").first).to_have_text("protocol")
    expect(reply).to_have_attribute("data-status", "streaming")
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".md table td").first).to_have_text("HTTP/1.1")

    opened = [event["open"] for event in received if event.get("type") == "message.blocks" and "open" in event]
    assert any(block["html"].startswith('<pre><code class="language-python">') and block["in_code"]
               for block in opened), "the server sends the open fence as a code block"
    assert any("value_5 = compute(5)" in block["html"] and block["append"] for block in opened)
    assert any("<th>protocol</th>" in block["html"] for block in opened), "the server sends the open table"
    # Rows that arrive after the table was first sent go out alone, to be added to it.
    assert any(block["html"].startswith("<tr>\n<td>HTTP/") and block["append"] for block in opened), "no row added"

    frames = page.evaluate("window.__code")
    opened = [f for f in frames if f["open"] and "value_1 " in f["text"]]
    highlighted = [f for f in frames if f["highlighted"]]
    assert opened and highlighted
    assert abs(opened[-1]["top"] - highlighted[0]["top"]) <= 1, "the code block stays where it was"

    # A finished table's words are whole (it scrolls sideways); the copy button is above the code.
    cell = reply.locator(".md td").first
    lines = "e => { const r = new Range(); r.selectNodeContents(e); return r.getClientRects().length; }"
    assert cell.evaluate(lines) == 1
    button = reply.get_by_role("button", name="Copy code").first.bounding_box()
    code = reply.locator(".md pre code").first.bounding_box()
    assert button["y"] + button["height"] <= code["y"], "Copy code covers the code"


def test_a_reload_inside_an_open_fence_shows_it_as_code_and_it_goes_on(chat: Page):
    """The snapshot carries the open block rendered (open_block); the stream then adds to it."""
    page = chat
    code = "\n".join(f"step_{i} = run({i})" for i in range(40))
    pick(page, {"openai": "fake-echo;delay_ms=40"})
    send(page, f"Code:\n\n```python\n{code}\n```\n\nDone")
    reply = column(page, "openai")
    expect(reply.locator(".open-block pre code")).to_contain_text("step_2 = run(2)")
    page.reload()
    reply = column(page, "openai")
    expect(reply).to_have_attribute("data-status", "streaming")
    open_code = reply.locator(".open-block pre code")
    expect(open_code).to_contain_text("step_2 = run(2)")
    # Still open after the reload, and growing: later lines come into the same code block.
    expect(open_code).to_contain_text("step_30 = run(30)")
    expect(reply.locator(".reply-body")).not_to_contain_text("```")
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".md pre code")).to_contain_text("step_39 = run(39)")
    expect(reply.locator(".open-block")).to_have_count(0)
