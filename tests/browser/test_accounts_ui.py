import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

from .conftest import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_sign_up_log_out_and_log_in_again(page: Page):
    username = sign_up(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Chat")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(nav.get_by_role("link", name="API docs")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)

    nav.get_by_role("button", name="Log out").click()
    expect(page).to_have_url("/accounts/login/")
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in to webox")).to_be_visible()

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", name="New chat")).to_be_visible()
