"""``python -m webox.workers N``: N Celery workers forked from one process (``make worker``)."""

import os
import signal
import subprocess
import sys
import time

from rest_framework.test import APIClient

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from testing.fake_provider import expected_reply
from testing.processes import child_env, start_workers
from tests.processes import real_services
from webox.celery import app
from webox.workers import _named, worker_count


def test_each_worker_gets_the_node_name_numbered():
    assert _named(["-P", "threads", "-n", "w@%h"], 2) == ["-P", "threads", "-n", "w2@%h"]
    assert _named(["--hostname", "w@host"], 1) == ["--hostname", "w1@host"]
    assert _named(["-c", "10"], 3) == ["-c", "10", "-n", "worker3@%h"]


def test_auto_runs_one_worker_per_core_this_process_may_use():
    assert worker_count("auto") == len(os.sched_getaffinity(0))
    assert worker_count("3") == 3
    for refused in ("0", "-1", "two", ""):
        assert worker_count(refused) is None, refused


def test_an_unknown_worker_option_is_said_once_as_celery_says_it_not_by_every_worker():
    done = subprocess.run([sys.executable, "-m", "webox.workers", "3", "--no-such-option"], env=child_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("Error: No such option '--no-such-option'") == 1
    assert "Traceback" not in done.stderr


def wait_for(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


class TestForkedWorkers:
    pytestmark = real_services()

    def test_the_forked_workers_answer_each_under_its_name_and_generate_replies(self, tmp_path, user, fake_provider):
        provider_create(name="gpt", kind="openai", api_key="test-key", model_names=["fake-echo"],
                        default_model="fake-echo", base_url=fake_provider.url)
        process = start_workers(tmp_path, child_env(), processes=2, concurrency=5)
        try:
            prefix = process.log.stem  # the launcher's -n name; the workers add their number
            names = {name.split("@")[0] for answer in app.control.ping(timeout=2) for name in answer}
            assert {name for name in names if name.startswith(prefix)} == {f"{prefix}1", f"{prefix}2"}
            client = APIClient()
            client.force_authenticate(user)
            replies = [client.post("/api/chat/send", {"message": f"turn {i}", "selected_providers": ["gpt"],
                                                      "selected_models": {"gpt": "fake-echo;tokens=5"}},
                                   format="json").json()["replies"][0]["id"] for i in range(4)]
            assert wait_for(lambda: Message.objects.filter(pk__in=replies, status=ReplyStatus.COMPLETE).count() == 4)
            for i, reply_id in enumerate(replies):
                assert Message.objects.get(pk=reply_id).content == "".join(expected_reply(f"turn {i}", 5))
        finally:
            process.stop()

    def test_a_term_to_the_first_worker_stops_every_worker(self, tmp_path):
        process = start_workers(tmp_path, child_env(), processes=2, concurrency=5)
        try:
            os.kill(process.pid, signal.SIGTERM)  # to the first process only, as systemd's KillMode=mixed sends it
            process.handle.wait(30)

            def group_gone() -> bool:
                try:
                    os.killpg(process.pid, 0)
                except ProcessLookupError:
                    return True
                return False

            assert wait_for(group_gone, timeout=30)
            assert process.output().count("Warm shutdown") == 2
        finally:
            process.stop()
