"""Browser tests: Debian's chromium drives a real daphne server whose providers are the fake server.

The server runs as a subprocess (ASGI, so the WebSocket works) in embedded mode: provider calls
happen on daphne's own loop. It gets its own database: a SQLite file in a temporary folder, or,
when ``DATABASE_URL`` is set, a PostgreSQL database named like it plus ``_browser``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from chat.providers.policy import KEYLESS_PLACEHOLDER
from testing.fake_provider import FakeProviderServer
from testing.processes import start_daphne
from tests.conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]
# Tests write screenshots outside the tree (``make test`` leaves git clean); ``make screenshots``
# runs them with this folder set and copies the images into docs/screenshots/.
SCREENSHOTS = Path(os.environ.get("WEBOX_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "webox-screenshots")
CHROMIUM = os.environ.get("WEBOX_CHROMIUM", "/usr/bin/chromium")

# Model names tell the fake provider how to answer (see testing/fake_provider/).
FAST = "fake-echo;delay_ms=20"
WORDY = "fake-echo;delay_ms=200"
MEDIUM = "fake-echo;delay_ms=50;tokens=60"
SLOW = "fake-echo;delay_ms=60;tokens=400"
BROKEN = "fake-echo;error=400"
MODELS = ",".join((FAST, WORDY, MEDIUM, SLOW, BROKEN))
PROVIDERS = ("openai", "anthropic", "ollama")

expect.set_options(timeout=15_000)

# The live server's environment, for running its management commands (see ``manage``).
LIVE_SERVER_ENV: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real browser against a live daphne server")
    config.addinivalue_line("markers", "same_in_both_modes: what it proves of the page does not depend on the "
                                       "test mode, so it runs once, in the embedded default")


def production_shape() -> bool:
    from django.conf import settings

    return bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """CI runs the suite in both modes; a browser test whose subject is the page alone (its markup, script,
    layout, CSP) proves the same thing twice. The ones about streaming, search, the dashboard's figures,
    storage or the database still run in both."""
    if not production_shape():
        return
    once = pytest.mark.skip(reason="the page is the same in both modes: it runs in the embedded default")
    for item in items:
        if item.get_closest_marker("same_in_both_modes"):
            item.add_marker(once)


def _browser_database_url(url: str) -> str:
    """The same server, database ``<name>_browser``, created empty."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_browser"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeProviderServer]:
    server = FakeProviderServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_ollama() -> Iterator[FakeProviderServer]:
    """Ollama takes no key; webox sends the SDK a placeholder, which this one expects."""
    server = FakeProviderServer(api_key=KEYLESS_PLACEHOLDER).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server_url(fake_provider: FakeProviderServer, fake_ollama: FakeProviderServer,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("webox-browser")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.settings",
        "DJANGO_DEBUG": "1",
        "WEBOX_VAR_DIR": str(var_dir),
        "WEBOX_RUNNER": "embedded",
        "WEBOX_DEMO_PROVIDER": "0",
        # Its own Redis namespace: its database restarts ids, so keys from other runs must not match.
        "WEBOX_REDIS_PREFIX": f"webox-browser-{uuid.uuid4().hex[:10]}",
        "OPENAI_BASE_URL": fake_provider.url,
        "OPENAI_API_KEY": fake_provider.api_key,
        "OPENAI_MODELS": MODELS,
        "ANTHROPIC_BASE_URL": fake_provider.anthropic_url,
        "ANTHROPIC_API_KEY": fake_provider.api_key,
        "ANTHROPIC_MODELS": MODELS,
        "OLLAMA_BASE_URL": fake_ollama.url,
        "OLLAMA_MODELS": MODELS,
        # Models named "…id=vision…" see images (tests/browser/test_attachments.py); the rest do not.
        "WEBOX_VISION_MODELS": '{"*": ["fake-echo;*id=vision*"]}',
        "PYTHONUNBUFFERED": "1",
    }
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _browser_database_url(env["DATABASE_URL"])
    LIVE_SERVER_ENV.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    daphne, port = start_daphne(var_dir, env)
    yield f"http://127.0.0.1:{port}"
    daphne.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's chromium, never a downloaded browser."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict, live_server_url: str) -> dict:
    return {**browser_context_args, "base_url": live_server_url, "viewport": {"width": 1440, "height": 900},
            "color_scheme": "light"}


# Every Content-Security-Policy violation of a page, kept in the page where the test can read it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


@pytest.fixture
def page(page: Page) -> Page:
    """The page, failing the test on any uncaught script error, dialog (an alert is an XSS) or
    Content-Security-Policy violation."""
    errors: list[str] = []
    page.add_init_script(CSP_LISTENER)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("console", lambda message: "Content Security Policy" in message.text and errors.append(message.text))
    yield page
    assert not errors, errors


def manage(*args: str) -> str:
    """Run a management command against the live server's database; its output."""
    assert LIVE_SERVER_ENV, "needs the live_server_url fixture"
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=LIVE_SERVER_ENV, check=True,
                          capture_output=True, text=True)
    return done.stdout


def sign_up(page: Page, username: str | None = None) -> str:
    username = username or f"user{uuid.uuid4().hex[:10]}"
    page.goto("/accounts/register/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    return username


@pytest.fixture
def chat(page: Page) -> Page:
    """A signed-up user on the chat page."""
    sign_up(page)
    return page


def pick(page: Page, picks: dict[str, str]) -> None:
    """Selects exactly these providers, each with its model."""
    for name in PROVIDERS:
        checkbox = page.get_by_role("checkbox", name=name, exact=True)
        if name in picks:
            checkbox.check()
        else:
            checkbox.uncheck()
    # A model field with focus is drawn whole over its neighbours: the boxes are ticked first.
    for name, model in picks.items():
        page.get_by_label(f"Model for {name}").fill(model)
    page.get_by_role("textbox", name="Message").focus()


def open_settings(page: Page, provider: str | None = None) -> None:
    """Opens the conversation's settings popover, or ``provider``'s column settings."""
    name = f"Settings for {provider}" if provider else "Settings"
    page.get_by_role("button", name=name, exact=True).click()


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def column(page: Page, provider: str, turn: int = -1):
    """The visible reply of ``provider`` in a turn (the last by default)."""
    turns = page.locator("article.turn")
    chosen = turns.last if turn == -1 else turns.nth(turn)
    return chosen.locator(f'.column[data-provider="{provider}"] .reply:not([hidden])')


def proxy_sockets(page: Page, on_server_frame=None) -> list[dict]:
    """Routes the chat sockets through the test; returns one record per connection."""
    connections: list[dict] = []

    def handle(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        record = {"page": ws, "server": server, "sent": []}
        connections.append(record)

        def to_server(frame):
            record["sent"].append(frame)
            server.send(frame)

        def to_page(frame):
            if on_server_frame is None or on_server_frame(frame):
                ws.send(frame)

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r"/api/chat/ws/\d+$"), handle)
    return connections
