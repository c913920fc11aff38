"""The admin's Providers page: the providers configured outside the database are there to see and use."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import SCREENSHOTS, manage, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_providers_configured_outside_the_database_are_laid_out_full_width(page: Page, width: int):
    username = sign_up(page)
    manage("shell", "-c", "from accounts.models import User; "
           f"User.objects.filter(username={username!r}).update(is_staff=True, is_superuser=True)")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/admin/chat/provider/")

    section = page.locator(".webox-configured")
    expect(section.get_by_role("heading", name="Configured outside the database")).to_be_visible()
    box = section.bounding_box()
    listing = page.locator("#content-main").bounding_box()
    assert box is not None and listing is not None
    # As wide as the list of records above it, not squeezed beside it.
    assert box["width"] >= listing["width"] - 2 and box["width"] > width / 2, (box, listing)
    row = section.locator('.webox-configured-row[data-provider="openai"]')
    expect(row).to_be_visible()
    for button in ("Check connection", "Refresh models"):
        control = row.get_by_role("button", name=button)
        expect(control).to_be_visible()
        control_box = control.bounding_box()
        assert control_box["width"] > 40 and control_box["x"] + control_box["width"] <= width
    if width == 1280:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "admin-providers.png", full_page=True)
