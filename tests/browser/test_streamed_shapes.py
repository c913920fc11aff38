"""While a reply streams, an open code fence shows as a code block of its text so far and a table as
a table once its header and delimiter are in; the finished blocks take their place without a jump.
Finished tables scroll sideways unbroken, and "Copy code" never covers code."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import column, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

STREAMING = "fake-echo;delay_ms=30;tokens=200"
CODE = "\n".join(f"value_{i} = compute({i})  # line {i}" for i in range(14))
MESSAGE = (f"Some code:\n\n```python\n{CODE}\n```\n\n"
           "| protocol | a rather long note about it |\n|---|---|\n| HTTP/1.1 | keep-alive connections |\n"
           "| HTTP/2 | multiplexed streams over one connection |\n\nAnd then some closing words to end it")

# The code block's place in its reply, sampled at every change while the reply streams.
RECORD = """() => {
  window.__code = [];
  new MutationObserver(() => {
    const reply = document.querySelector('.column[data-provider="openai"] .reply');
    const pre = reply && reply.querySelector(".reply-body pre");
    if (!pre) return;
    window.__code.push({ open: Boolean(pre.closest(".stream-text")),
      highlighted: Boolean(pre.querySelector("code span")),
      top: pre.getBoundingClientRect().top - reply.getBoundingClientRect().top, text: pre.textContent });
  }).observe(document.getElementById("thread"), { subtree: true, childList: true, characterData: true });
}"""


def test_an_open_fence_and_a_table_take_their_shape_while_streaming(chat: Page):
    page = chat
    page.set_viewport_size({"width": 900, "height": 900})
    pick(page, {"openai": STREAMING})
    page.evaluate(RECORD)
    send(page, MESSAGE)
    reply = column(page, "openai")
    open_code = reply.locator(".stream-text pre code")
    expect(open_code).to_contain_text("value_3 = compute(3)")
    expect(reply.locator(".stream-text")).not_to_contain_text("```")
    open_table = reply.locator(".stream-text table")
    expect(open_table.locator("th").first).to_have_text("protocol")
    expect(reply).to_have_attribute("data-status", "streaming")
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".md table td").first).to_have_text("HTTP/1.1")

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
