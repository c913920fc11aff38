"""daphne listens with WEBOX_LISTEN_BACKLOG queued connections, not twisted's 50 (webox/daphne_options.py)."""

import re
import shutil
import subprocess

import pytest

from testing.processes import child_env, start_daphne


def listen_queue(port: int) -> int:
    """The listen socket's backlog, as the kernel reports it (``ss``: Send-Q of a listening socket)."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(re.split(r"\s+", out.strip())[2])


def test_endpoints_daphne_builds_from_host_and_port_carry_the_backlog():
    import daphne.cli

    from webox.daphne_options import listen_with_backlog

    listen_with_backlog(777)
    try:
        assert daphne.cli.build_endpoint_description_strings(host="127.0.0.1", port=8123) == [
            "tcp:port=8123:interface=127.0.0.1:backlog=777"]
        assert daphne.cli.build_endpoint_description_strings(unix_socket="/tmp/w.sock") == ["unix:/tmp/w.sock"]
    finally:
        from django.conf import settings

        listen_with_backlog(settings.WEBOX_LISTEN_BACKLOG)


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss to read the listen queue")
def test_a_started_daphne_listens_with_the_configured_queue(tmp_path):
    daphne, port = start_daphne(tmp_path, child_env(WEBOX_LISTEN_BACKLOG="300"))
    try:
        assert listen_queue(port) == 300
    finally:
        daphne.stop()
