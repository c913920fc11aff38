"""The composer never hides the replies: four columns fit one compact bar, settings are popovers on
their chips, nothing stays open after Send, and a cut model name is whole on hover and focus."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, SCREENSHOTS, column, manage, open_settings, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

LONG_MODEL = "fake-echo;delay_ms=20;id=longer-name"
FOURTH = "mistral"
# (width, height, the most the composer may take): 120 px on a desktop, a quarter of a phone's height.
SCREENS = [(1280, 900, 120), (1920, 1080, 120), (390, 844, 844 // 4)]


@pytest.fixture(scope="module")
def fourth_provider(live_server_url: str, fake_provider) -> Iterator[str]:
    """A fourth provider (the configured three are openai, anthropic and ollama), removed afterwards."""
    manage("providers", "add", FOURTH, "--kind", "openai", "--base-url", fake_provider.url,
           "--api-key-env", "OPENAI_API_KEY", "--models", FAST, "--default-model", FAST)
    yield FOURTH
    manage("providers", "remove", FOURTH)


@pytest.mark.parametrize(("width", "height", "most"), SCREENS, ids=[f"{w}x{h}" for w, h, _ in SCREENS])
def test_four_columns_with_settings_opened_then_sent_leave_the_thread_in_view(
        chat: Page, fourth_provider: str, width: int, height: int, most: int):
    page = chat
    page.set_viewport_size({"width": width, "height": height})
    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    pick(page, {"openai": LONG_MODEL, "anthropic": FAST, "ollama": FAST})
    page.get_by_role("checkbox", name=FOURTH, exact=True).check()

    composer = page.locator("#composer")
    assert composer.bounding_box()["height"] <= most, "four columns fit a compact composer"

    # A cut model name is whole in its tooltip and while it has focus.
    model = page.get_by_label("Model for openai")
    expect(model).to_have_attribute("title", LONG_MODEL)
    assert model.evaluate("e => e.scrollWidth > e.clientWidth + 1"), "cut at rest"
    model.focus()
    page.wait_for_function("e => e.scrollWidth <= e.clientWidth + 1", arg=model.element_handle())
    page.locator("#message").focus()

    open_settings(page)
    page.get_by_label("Temperature", exact=True).fill("0.5")
    open_settings(page, "anthropic")
    expect(page.get_by_label("Max tokens for anthropic")).to_be_visible()
    expect(page.get_by_label("Temperature", exact=True)).to_be_hidden()  # one popover at a time
    page.get_by_label("Max tokens for anthropic").fill("200")
    send(page, "Four columns, then read the replies")

    for name in ("openai", "anthropic", "ollama", FOURTH):
        expect(column(page, name)).to_have_attribute("data-status", "complete")
    expect(page.locator(".popover:visible")).to_have_count(0)
    thread = page.locator("#thread").bounding_box()["height"]
    composer_height = composer.bounding_box()["height"]
    assert composer_height <= most
    # The thread gets the window but for the page header, the conversation header and the composer.
    assert thread >= height - most - 130, f"thread {thread:.0f} px of {height} px, composer {composer_height:.0f} px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"composer-{width}x{height}.png")


def test_escape_and_a_click_elsewhere_close_a_column_popover(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    open_settings(page, "openai")
    field = page.get_by_label("Temperature for openai")
    expect(field).to_be_focused()
    field.press("Escape")
    expect(field).to_be_hidden()
    expect(page.get_by_role("button", name="Settings for openai")).to_be_focused()
    open_settings(page, "openai")
    page.locator("#thread").click(position={"x": 10, "y": 10})
    expect(field).to_be_hidden()


def test_every_one_of_four_chips_is_in_view_at_1280px(chat: Page, fourth_provider: str):
    page = chat
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    open_settings(page)
    page.get_by_label("Temperature", exact=True).fill("0.5")
    open_settings(page)
    settings = page.get_by_role("button", name="Settings", exact=True).bounding_box()
    for chip in page.locator(".provider-chip").all():
        box = chip.bounding_box()
        assert box["x"] + box["width"] <= settings["x"], f"{chip.get_attribute('data-provider')} is cut"
