"""The provider SDKs and the price table are loaded only by the processes that call providers and
price replies (chat/providers/sdks.py, chat/usage/pricing.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import os, sys
import django
django.setup()
import webox.asgi  # noqa: F401 - what daphne imports
from importlib.util import _LazyModule
state = {name: isinstance(sys.modules.get(name), _LazyModule) for name in ("openai", "anthropic")}
if "--call" in sys.argv:
    import webox.celery
    from webox.celery import _load_provider_sdks
    _load_provider_sdks()
    state = {name: isinstance(sys.modules.get(name), _LazyModule) for name in ("openai", "anthropic")}
if "--stream" in sys.argv:  # the first use of a lazy SDK, as the admin's "check connection" would
    import asyncio
    from chat.providers import ProviderConfig, build_provider
    from chat.providers.base import ChatMessage, ChatRequest, TextDelta
    config = ProviderConfig(name="gpt", kind="openai", base_url=sys.argv[-1], api_key="test-key")
    async def collect():
        request = ChatRequest(model="fake-echo;tokens=3", messages=(ChatMessage("user", "hi there"),))
        return "".join([i.text async for i in build_provider(config).stream(request) if isinstance(i, TextDelta)])
    print(repr(asyncio.run(collect())).replace(" ", "_"))
    state = {name: isinstance(sys.modules.get(name), _LazyModule) for name in ("openai", "anthropic")}
print(state["openai"], state["anthropic"], "anthropic.resources.messages" in sys.modules,
      "genai_prices.data" in sys.modules)
"""


def probe(runner: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "WEBOX_"))}
    env.update(DJANGO_SETTINGS_MODULE="webox.settings", WEBOX_RUNNER=runner, PYTHONPATH=str(ROOT))
    if runner == "celery":  # the system checks want a real channel layer with the Celery runner: not run here
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_a_server_that_leaves_provider_calls_to_workers_does_not_load_the_sdks_nor_the_price_table():
    # True: still a lazy module, nothing of the SDK imported (no Redis connection is made at setup).
    assert probe("celery") == ["True", "True", "False", "False"]


def test_a_worker_loads_the_sdks_and_the_price_table_before_its_first_task():
    assert probe("celery", "--call") == ["False", "False", "True", "True"]


def test_the_embedded_server_calls_providers_itself_and_loads_them_and_the_price_table_at_start():
    assert probe("embedded") == ["False", "False", "True", "True"]


def test_an_unloaded_sdk_loads_on_first_use(fake_provider):
    from tests.fake_provider import expected_reply

    text, *state = probe("celery", "--stream", fake_provider.url)
    assert text == repr("".join(expected_reply("hi there", 3))).replace(" ", "_")
    assert state == ["False", "True", "False", "False"]  # only the SDK that was used is loaded
