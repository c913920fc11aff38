"""Markdown renders while a reply streams, inert as ever, and stays put when the reply ends;
every code block has a copy button."""

import re

import pytest
from playwright.sync_api import Page, expect

from testing.fake_provider import expected_reply

from .conftest import FAST, MEDIUM, column, pick, send
from .test_xss import PAYLOAD, assert_nothing_injected

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

# The fake provider echoes it word by word (MEDIUM: 50 ms apart, cut at 60 pieces, inside the last
# paragraph): the table and the code block are finished about a second before the reply ends.
WORDS = " ".join(f"word{i}" for i in range(40))
MESSAGE = (f"{PAYLOAD}\n\n## Plan\n\n- first step\n- second step\n\n"
           f"| tool | note |\n|---|---|\n| webox | {PAYLOAD} |\n\n"
           f"```python\ndef greet():\n    return 'hi'\n```\n\nThen {WORDS}")

# Runs in the page: one frame per DOM change of the thread, taken before the browser paints it.
RECORD_FRAMES = """() => {
  window.__frames = [];
  const injected = 'main img, main script, main iframe, main a[href^="javascript"], main [onerror]';
  const offset = (node, reply) => node.getBoundingClientRect().top - reply.getBoundingClientRect().top;
  new MutationObserver(() => {
    const reply = document.querySelector('.column[data-provider="openai"] .reply');
    const md = reply && reply.querySelector(".reply-body > .md");
    if (!md) return;
    window.__table = window.__table || md.querySelector("table");
    const table = window.__table;
    window.__frames.push({
      status: reply.dataset.status,
      tables: md.querySelectorAll("table").length,
      code: md.querySelectorAll("pre code span.k").length,
      copyButtons: md.querySelectorAll(".code-block > button").length,
      injected: document.querySelectorAll(injected).length,
      tail: reply.querySelector(".stream-text").hidden ? "" : reply.querySelector(".stream-text").textContent,
      tableOnPage: Boolean(table && table.isConnected),
      tableOffset: table ? offset(table, reply) : null,
      replyTop: reply.getBoundingClientRect().top + document.getElementById("thread").scrollTop,
      bodyHeight: reply.querySelector(".reply-body").getBoundingClientRect().height,
    });
  }).observe(document.getElementById("thread"), { subtree: true, childList: true, characterData: true,
                                                  attributes: true, attributeFilter: ["data-status", "hidden"] });
}"""


def test_markdown_renders_mid_stream_inert_and_the_column_holds_still_at_the_end(chat: Page):
    page = chat
    pick(page, {"openai": MEDIUM})
    page.evaluate(RECORD_FRAMES)
    send(page, MESSAGE)
    reply = column(page, "openai")
    # Seen while it streams: the finished blocks rendered, the open paragraph still text.
    markdown = reply.locator(".reply-body > .md")
    expect(markdown.get_by_role("heading", name="Plan")).to_be_visible()
    expect(markdown.locator("li")).to_have_text(["first step", "second step"])
    expect(reply.locator(".stream-text")).to_have_text(re.compile(r"^Then word"))
    assert_nothing_injected(page)
    expect(reply).to_have_attribute("data-status", "complete")
    assert_nothing_injected(page)

    frames = page.evaluate("window.__frames")
    streaming = [f for f in frames if f["status"] == "streaming"]
    ended = [f for f in frames if f["status"] == "complete"]
    # A table and a highlighted code block, with its copy button, before the reply ended.
    assert any(f["tables"] and f["code"] and f["copyButtons"] for f in streaming)
    assert all(f["injected"] == 0 for f in frames), "a payload ran or was inserted mid-stream"
    assert streaming[-1]["tail"].startswith("Then word") and "|" not in streaming[-1]["tail"]
    # At the end only the open paragraph changes: the table is the same element, where it was.
    last, final = streaming[-1], ended[0]
    assert final["tableOnPage"] and final["tableOffset"] == last["tableOffset"]
    assert final["replyTop"] == last["replyTop"]
    assert abs(final["bodyHeight"] - last["bodyHeight"]) <= 4, (last, final)
    expect(markdown.locator("td").last).to_contain_text("<script>window.__xss=1;alert(2)</script>")
    expect(markdown.locator("p").last).to_have_text("".join(expected_reply(MESSAGE, 60)).split("\n\n")[-1])
    assert page.evaluate("window.__xss") is None


def test_a_code_block_has_a_copy_button_that_copies_its_code(chat: Page):
    page = chat
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pick(page, {"openai": FAST})
    send(page, "Try:\n\n```python\ndef greet():\n    return '<b>hi</b>'\n```\n\nand `inline`.")
    reply = column(page, "openai")
    expect(reply).to_have_attribute("data-status", "complete")
    button = reply.get_by_role("button", name="Copy code")
    expect(button).to_have_count(1)  # none for inline code
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#announcer")).to_have_text("Code copied")
    assert page.evaluate("navigator.clipboard.readText()") == "def greet():\n    return '<b>hi</b>'\n"
    # The user's own message renders its code block with one too.
    page.locator(".user-message").get_by_role("button", name="Copy code").click()
    assert page.evaluate("navigator.clipboard.readText()") == "def greet():\n    return '<b>hi</b>'\n"
