"""What a web process imports is kept out of the garbage collector's full collections, which stop its
event loop for as long as they take (webox/collector.py): at start, and for a module it loads later."""

import os
import subprocess
import sys

import pytest

from testing.processes import ROOT

# A script prints, last, "<modules looked at> <how many of them the collector still tracks>".
STARTED_SERVER = """
import gc, sys
import django
django.setup()
before = set(sys.modules)
import webox.asgi
{then}
new = [name for name in set(sys.modules) - before if sys.modules[name] is not None]
tracked = {{id(o) for o in gc.get_objects()}}
print(len(new), sum(id(vars(sys.modules[name])) in tracked for name in new))
"""
# Every view, serializer and URL pattern, as the first request would load them.
AT_START = STARTED_SERVER.format(then="assert 'chat.api.send' in sys.modules, 'the views are not loaded at start'")
# The price table, which daphne in production shape loads at its first send.
LOADED_LATER = STARTED_SERVER.replace(
    "before = set(sys.modules)\nimport webox.asgi\n",
    "import webox.asgi\nbefore = set(sys.modules)\n",
).format(then="from chat.providers import sdks\nassert not sdks.loaded('genai_prices')\nsdks.load('genai_prices')")
# The embedded server's first request makes each SDK's first call, which imports its HTTP stack.
WARMED_LATER = STARTED_SERVER.replace(
    "before = set(sys.modules)\nimport webox.asgi\n",
    "import webox.asgi\nbefore = set(sys.modules)\n",
).format(then="from chat.providers.registry import warm_sdks\nwarm_sdks()")


def _modules_still_tracked(script: str, tmp_path, runner: str, **extra_env: str) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEBOX_RUNNER", "WEBOX_VAR_DIR", "OPENAI_", "ANTHROPIC_", "OLLAMA_"))}
    env.update(DJANGO_SETTINGS_MODULE="webox.settings", WEBOX_RUNNER=runner, WEBOX_VAR_DIR=str(tmp_path), **extra_env)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    looked_at, tracked = map(int, done.stdout.strip().splitlines()[-1].split())
    return looked_at, tracked


@pytest.mark.parametrize("runner", ["embedded", "celery"])
def test_a_started_web_process_keeps_every_module_it_imported_out_of_full_collections(tmp_path, runner):
    looked_at, tracked = _modules_still_tracked(AT_START, tmp_path, runner)
    assert looked_at > 100
    assert tracked == 0


def test_the_price_table_loaded_at_the_first_send_is_kept_out_of_full_collections(tmp_path):
    looked_at, tracked = _modules_still_tracked(LOADED_LATER, tmp_path, "celery")
    assert looked_at > 5
    assert tracked == 0


def test_what_the_sdks_first_calls_import_is_kept_out_of_full_collections(tmp_path):
    looked_at, tracked = _modules_still_tracked(WARMED_LATER, tmp_path, "embedded", OPENAI_API_KEY="sk-test")
    assert looked_at > 10
    assert tracked == 0
