"""Math in a reply shows as typeset MathML in the browser, under the page's CSP."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, column, csp_violations, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_inline_and_displayed_math_are_typeset(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    send(page, "Euler $e^{i\\pi}+1=0$ and\n\n$$\n\\frac{a}{b}\n$$\n\ncosts $5 or $10")
    reply = column(page, "openai")
    expect(reply).to_have_attribute("data-status", "complete")

    inline = reply.locator('math[display="inline"]')
    block = reply.locator('math[display="block"]')
    expect(inline).to_have_count(1)
    expect(block).to_have_count(1)
    expect(block.locator("mfrac")).to_have_count(1)
    # Typeset by the browser: the fraction is taller than a line of text, and no LaTeX is left.
    assert block.bounding_box()["height"] > inline.bounding_box()["height"]
    expect(reply).not_to_contain_text("\\frac")
    expect(reply).to_contain_text("costs $5 or $10")
    assert csp_violations(page) == []
