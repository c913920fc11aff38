"""Every page works under the Content-Security-Policy: no inline script, no inline handler, nothing blocked."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import CSP_LISTENER, FAST, column, csp_violations, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def load(page: Page, path: str, **headers) -> str:
    """Open ``path``; returns its policy header, after checking the page ran into no violation."""
    if headers:
        page.set_extra_http_headers(headers)
    response = page.goto(path)
    assert response is not None and response.ok, (path, response and response.status)
    page.wait_for_load_state("networkidle")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert csp_violations(page) == [], path
    return policy


def test_the_chat_page_streams_under_the_policy(chat: Page):
    policy = load(chat, "/")
    assert "nonce-" in policy  # the import map's
    pick(chat, {"openai": FAST})
    send(chat, "Does the policy let me chat?")
    expect(column(chat, "openai")).to_have_attribute("data-status", "complete")
    assert csp_violations(chat) == []


def test_an_inline_script_is_blocked(new_context, live_server_url):
    # A page of its own: the shared fixture would (rightly) fail on this violation.
    page = new_context().new_page()
    page.add_init_script(CSP_LISTENER)
    page.goto(f"{live_server_url}/accounts/login/")
    page.evaluate("""() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.append(s); }""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert csp_violations(page) == ["script-src-elem blocked inline"]


@pytest.mark.parametrize("path", ["/dashboard/", "/accounts/login/", "/admin/login/"])
def test_pages_run_without_violations(chat: Page, path):
    load(chat, path)


def test_the_browsable_api_runs_without_violations(chat: Page):
    load(chat, "/api/auth/me", Accept="text/html")
    expect(chat.get_by_text("username")).not_to_have_count(0)


def test_the_api_docs_run_without_violations(chat: Page):
    load(chat, "/api/docs/")
    expect(chat.locator(".swagger-ui")).to_be_visible()
