"""The provider SDKs and the price table are loaded only by the processes that call providers and
price replies, and there only the SDKs of the configured providers (chat/providers/sdks.py,
chat/usage/pricing.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import os, sys
import django
django.setup()
import webox.asgi  # noqa: F401 - what daphne imports
from importlib.util import _LazyModule
if "--record" in sys.argv:  # a Provider record of this kind, as the admin would add one
    from chat.models import Provider
    Provider.objects.create(name="record", kind=sys.argv[sys.argv.index("--record") + 1])
state = {name: isinstance(sys.modules.get(name), _LazyModule) for name in ("openai", "anthropic")}
if "--call" in sys.argv:
    import webox.celery
    from webox.celery import _load_provider_sdks
    _load_provider_sdks()
    state = {name: isinstance(sys.modules.get(name), _LazyModule) for name in ("openai", "anthropic")}
if "--stream" in sys.argv:  # the first use of a lazy SDK, as the first reply of a new provider
    import asyncio
    from chat.providers import ProviderConfig, build_provider
    from chat.providers.base import ChatMessage, ChatRequest, TextDelta
    config = ProviderConfig(name="gpt", kind="openai", base_url=sys.argv[-1], api_key="test-key")
    async def collect():
        ticks = 0
        async def tick():  # the loop goes on while the SDK is imported
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1
        ticker = asyncio.create_task(tick())
        request = ChatRequest(model="fake-echo;tokens=3", messages=(ChatMessage("user", "hi there"),))
        stream = build_provider(config).stream(request)
        first = await anext(stream)
        ticks_during_import = ticks
        text = first.text + "".join([i.text async for i in stream if isinstance(i, TextDelta)])
        ticker.cancel()
        return text, ticks_during_import
    text, ticks = asyncio.run(collect())
    print(repr(text).replace(" ", "_"), "ticked" if ticks >= 5 else f"stalled({ticks})")
    state = {name: isinstance(sys.modules.get(name), _LazyModule) for name in ("openai", "anthropic")}
print(state["openai"], state["anthropic"], "anthropic.resources.messages" in sys.modules,
      "genai_prices.data" in sys.modules)
"""
PROVIDER_VARS = ("OPENAI_", "ANTHROPIC_", "OLLAMA_")


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A migrated SQLite database of the probes' own (no Provider records)."""
    path = tmp_path_factory.mktemp("sdks-var")
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=probe_env(path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return path


def probe_env(var_dir, runner: str = "embedded", **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "WEBOX_", *PROVIDER_VARS))}
    env.update(DJANGO_SETTINGS_MODULE="webox.settings", WEBOX_RUNNER=runner, PYTHONPATH=str(ROOT),
               WEBOX_VAR_DIR=str(var_dir), **extra)
    if runner == "celery":  # the system checks want a real channel layer with the Celery runner: not run here
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    return env


def probe(var_dir, runner: str, *args: str, **extra) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=probe_env(var_dir, runner, **extra),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


OPENAI_ENV = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}


def test_a_server_that_leaves_provider_calls_to_workers_does_not_load_the_sdks_nor_the_price_table(var_dir):
    # True: still a lazy module, nothing of the SDK imported (no Redis connection is made at setup).
    assert probe(var_dir, "celery", **OPENAI_ENV) == ["True", "True", "False", "False"]


def test_a_worker_loads_the_sdks_of_the_configured_providers_and_the_price_table_before_its_first_task(var_dir):
    assert probe(var_dir, "celery", "--call", **OPENAI_ENV) == ["False", "True", "False", "True"]


def test_a_worker_loads_the_sdk_of_a_provider_record_too(var_dir, tmp_path):
    fresh = tmp_path / "var"
    shutil.copytree(var_dir, fresh)  # the record goes in a copy: the other probes' database has none
    assert probe(fresh, "celery", "--record", "anthropic", "--call", **OPENAI_ENV) == ["False", "False", "True", "True"]


def test_a_worker_without_its_database_loads_every_sdk(tmp_path):
    # An unmigrated database cannot say which providers there are.
    assert probe(tmp_path, "celery", "--call") == ["False", "False", "True", "True"]


def test_the_embedded_server_loads_the_sdks_of_the_environments_providers_and_the_price_table_at_start(var_dir):
    assert probe(var_dir, "embedded", **OPENAI_ENV) == ["False", "True", "False", "True"]
    assert probe(var_dir, "embedded") == ["True", "True", "False", "True"]  # the demo provider alone


def test_an_unloaded_sdk_loads_on_first_use_without_stopping_the_loop(var_dir, fake_provider):
    from testing.fake_provider import expected_reply

    text, loop, *state = probe(var_dir, "celery", "--stream", fake_provider.url)
    assert text == repr("".join(expected_reply("hi there", 3))).replace(" ", "_")
    assert loop == "ticked"
    assert state == ["False", "True", "False", "False"]  # only the SDK that was used is loaded


FIRST_REPLY_PROBE = """
import asyncio, sys
import django
django.setup()
if sys.argv[1] == "worker":
    from webox.celery import _load_provider_sdks
    _load_provider_sdks()
else:  # the embedded server: its first request starts the runner (chat/streaming/runners.py)
    from chat.streaming.runners import remember_server_loop
    async def app(scope, receive, send):
        pass
    asyncio.run(remember_server_loop(app)({}, None, None))  # run() waits for the warm-up's thread
from chat.providers import ProviderConfig, build_provider
from chat.providers.base import ChatMessage, ChatRequest, TextDelta
before = set(sys.modules)
async def first_reply():
    config = ProviderConfig(name="gpt", kind="openai", base_url=sys.argv[-1], api_key="test-key")
    request = ChatRequest(model="fake-echo;tokens=3", messages=(ChatMessage("user", "hi there"),))
    return "".join([item.text async for item in build_provider(config).stream(request) if isinstance(item, TextDelta)])
print(repr(asyncio.run(first_reply())).replace(" ", "_"), sorted(set(sys.modules) - before))
"""


@pytest.mark.parametrize("process", ["worker", "embedded"])
def test_a_process_that_calls_providers_makes_its_sdks_first_call_at_start(var_dir, fake_provider, process):
    from testing.fake_provider import expected_reply

    runner = "celery" if process == "worker" else "embedded"
    done = subprocess.run([sys.executable, "-c", FIRST_REPLY_PROBE, process, fake_provider.url], cwd=ROOT,
                          env=probe_env(var_dir, runner, **OPENAI_ENV), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    text, imported = done.stdout.split(maxsplit=1)
    assert text == repr("".join(expected_reply("hi there", 3))).replace(" ", "_")
    assert imported.strip() == "[]"  # the first reply imports nothing: the HTTP stack and streaming modules are loaded


SLOW_MODULE = """
import time
time.sleep(0.3)  # long enough for every thread below to arrive while it runs
VALUE = 42
"""
FIRST_USE_FROM_THREADS = """
import sys, threading
import django
django.setup()
from chat.providers import sdks
lazy = sdks.lazy("webox_slow_probe")
results, start = [], threading.Barrier(8)
def first_use():
    start.wait()
    try:
        results.append(sdks.module("webox_slow_probe").VALUE)
    except AttributeError as exc:
        results.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(results)
"""


def test_a_lazy_module_first_used_by_many_threads_at_once_is_whole_for_each(tmp_path):
    # As eight sends priced their estimates at once in a new daphne (genai-prices is lazy there).
    (tmp_path / "webox_slow_probe.py").write_text(SLOW_MODULE)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", FIRST_USE_FROM_THREADS], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str([42] * 8)
