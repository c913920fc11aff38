"""The files in deploy/ agree with each other, with the settings webox reads and with the docs: the Procfile's
commands are the ones systemd and compose run, every environment name they set is a setting, nginx and
systemd accept their files, and docs/deployment.md lists every setting's variable.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from django.conf import settings

from testing.deploy import DEPLOY, NGINX_SITE, SITE_UPSTREAMS, nginx_binary, nginx_conf, nginx_test, procfile
from testing.processes import ROOT

SYSTEMD = DEPLOY / "systemd"
# Read by the process line itself (Procfile, systemd, compose), not by the settings.
PROCESS_VARIABLES = {"HOST", "PORT", "WEBOX_WORKER_ARGS"}
# Environment providers, read by chat/providers/registry.py (docs/providers.md).
PROVIDER_VARIABLE = re.compile(r"^(OPENAI|ANTHROPIC|OLLAMA)_[A-Z_]+$")


def settings_variables() -> set[str]:
    """Every environment variable webox/settings.py reads: the first argument of its env_* helpers, os.environ.get."""
    readers = {"env_str", "env_bool", "env_int", "env_float", "env_list", "os.environ.get", "os.getenv"}
    tree = ast.parse((ROOT / "webox" / "settings.py").read_text())
    return {call.args[0].value for call in ast.walk(tree)
            if isinstance(call, ast.Call) and ast.unparse(call.func) in readers and call.args
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def compose_command(service: dict) -> str:
    """A compose command as the Procfile writes it: ``sh -c '…'`` unwrapped, ``$$`` (compose's escape) as ``$``."""
    command = service["command"]
    words = shlex.split(command) if isinstance(command, str) else command
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2])
    return " ".join(words).replace("$$", "$")


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's keys (each with all its values); comments skipped."""
    keys: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key, []).append(value)
    return keys


def unit_command(name: str) -> str:
    """A unit's ExecStart as the Procfile writes it: the program without the venv's path, ``${VAR}`` as ``$VAR``."""
    command = unit(name)["ExecStart"][0].replace("/srv/webox/.venv/bin/", "")
    return re.sub(r"\$\{(\w+)\}", r"$\1", command)


def test_the_procfile_names_the_release_web_worker_and_beat_commands():
    assert procfile() == {
        "release": "python manage.py migrate --noinput",
        "web": "daphne -b $HOST -p $PORT webox.asgi:application",
        "worker": "python -m webox.workers auto --loglevel INFO",
        "beat": "celery -A webox beat --loglevel INFO --schedule var/celerybeat-schedule",
    }


def test_systemd_units_run_the_procfile_commands():
    commands = procfile()
    assert unit_command("webox-web@.service") == commands["web"]
    assert unit_command("webox-beat.service") == commands["beat"]
    assert unit_command("webox-migrate.service") == commands["release"]
    # Each worker instance gets a node name of its own, and may be limited to some queues (-Q …).
    assert unit_command("webox-worker@.service") == commands["worker"] + " -n worker%i@%%H $WEBOX_WORKER_ARGS"
    assert unit("webox-web@.service")["Environment"] == ["HOST=127.0.0.1 PORT=%i"]
    for name in ("webox-web@.service", "webox-worker@.service", "webox-beat.service", "webox-migrate.service"):
        assert unit(name)["User"] == ["webox"], name
        assert unit(name)["EnvironmentFile"] == ["/etc/webox/webox.env"], name


def test_a_worker_unit_waits_for_the_longest_reply_before_sigkill():
    stop = int(unit("webox-worker@.service")["TimeoutStopSec"][0])
    assert stop > settings.WEBOX_REPLY_DEADLINE_SECONDS
    assert compose()["services"]["worker"]["stop_grace_period"] == f"{stop}s"


def test_systemd_analyze_verifies_the_units(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed on this machine")
    # Paths of this checkout: verify insists that ExecStart's program and the EnvironmentFile exist.
    for path in SYSTEMD.iterdir():
        text = (path.read_text().replace("/srv/webox/.venv/bin/", f"{os.path.dirname(sys.executable)}/")
                .replace("/srv/webox", str(ROOT)).replace("/etc/webox/webox.env", str(DEPLOY / "webox.env.example")))
        (tmp_path / path.name).write_text(text)
    (tmp_path / "webox-web@8001.service").write_text((tmp_path / "webox-web@.service").read_text())
    (tmp_path / "webox-worker@1.service").write_text((tmp_path / "webox-worker@.service").read_text())
    names = ["webox-web@8001.service", "webox-worker@1.service", "webox-beat.service", "webox-migrate.service"]
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warnings: none either


def test_compose_runs_the_procfile_commands_after_the_migration_step():
    services = compose()["services"]
    commands = procfile()
    assert set(services) == {"postgres", "redis", "migrate", "web1", "web2", "worker", "beat"}
    assert compose_command(services["migrate"]) == commands["release"]
    for web in ("web1", "web2"):
        assert compose_command(services[web]) == commands["web"]
    assert compose_command(services["worker"]) == commands["worker"]
    assert compose_command(services["beat"]) == commands["beat"]
    for name in ("web1", "web2", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"] == depends["redis"] == {"condition": "service_healthy"}, name
    # Every long-running service has a health check; the web servers' asks the readiness endpoint.
    for name in ("postgres", "redis", "web1", "web2", "worker", "beat"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz/ready" in " ".join(services["web1"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_compose_publishes_the_web_servers_on_the_ports_nginx_forwards_to():
    services = compose()["services"]
    published = [services[web]["ports"][0].rsplit(":", 1)[0] for web in ("web1", "web2")]
    assert published == list(SITE_UPSTREAMS)
    for web in ("web1", "web2"):
        assert services[web]["environment"]["PORT"] == services[web]["ports"][0].rsplit(":", 1)[1]


def test_every_variable_the_deploy_files_set_is_read_by_the_settings():
    known = settings_variables() | PROCESS_VARIABLES
    app_services = ("migrate", "web1", "web2", "worker", "beat")
    for name in app_services:
        environment = compose()["services"][name].get("environment", {})
        assert set(environment) <= known, (name, set(environment) - known)
    example = [line.partition("=")[0] for line in (DEPLOY / "webox.env.example").read_text().splitlines()
               if line and not line.startswith("#")]
    assert set(example) <= settings_variables(), set(example) - settings_variables()
    # The variables the deployment cannot run without are set everywhere.
    required = {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WEBOX_ENCRYPTION_KEYS",
                "WEBOX_TRUSTED_PROXIES"}
    assert required <= set(example)
    assert required <= set(compose()["services"]["web1"]["environment"])


def test_the_dockerfile_installs_the_requirements_and_runs_as_a_user_without_privileges():
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert "COPY requirements.txt ./" in instructions
    assert any("pip install -r requirements.txt" in line for line in instructions)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users == ["webox"]
    assert instructions.index("USER webox") > max(i for i, line in enumerate(instructions) if line.startswith("RUN"))
    command = [line for line in instructions if line.startswith("CMD ")][-1]
    assert procfile()["web"] in command
    assert "collectstatic" in " ".join(instructions)


def test_nginx_accepts_the_site_file(tmp_path):
    if not nginx_binary():
        if os.environ.get("WEBOX_REQUIRE_SERVICES") == "1":
            pytest.fail("nginx is missing: scripts/ensure-nginx installs it")
        pytest.skip("nginx is not installed (scripts/ensure-nginx installs it)")
    # The file as shipped, inside an http block; nginx -t also resolves the upstream addresses.
    result = nginx_test(nginx_conf(tmp_path, NGINX_SITE.read_text()))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def nginx_directive(name: str, location: str = "/") -> str:
    """The value of ``name`` in the site file's ``location`` block (or the server block)."""
    site = NGINX_SITE.read_text()
    block = site.split(f"location {location} {{", 1)[1].split("}", 1)[0] if location else site
    return re.search(rf"^\s*{name}\s+([^;]+);", block, re.M).group(1)


def test_the_site_file_fits_the_settings():
    # The body limit is the upload limit (the import), so nginx refuses nothing that webox takes.
    assert nginx_directive("client_max_body_size", "") == f"{settings.WEBOX_MAX_UPLOAD_BYTES // 2**20}m"
    assert settings.WEBOX_MAX_UPLOAD_BYTES % 2**20 == 0
    # A socket or a response outlives the longest reply.
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        assert nginx_directive(name) == "1h" and 3600 > settings.WEBOX_REPLY_DEADLINE_SECONDS
    assert nginx_directive("proxy_set_header Upgrade") == "$http_upgrade"
    assert nginx_directive("proxy_set_header X-Forwarded-For") == "$proxy_add_x_forwarded_for"
    assert nginx_directive("proxy_set_header X-Forwarded-Proto") == "$scheme"
    assert "immutable" in nginx_directive("add_header Cache-Control", "/static/")
    assert nginx_directive("alias", "/static/").rstrip("/") == "/srv/webox/staticfiles"
    assert str(settings.STATIC_ROOT).endswith("staticfiles") and settings.STATIC_URL == "/static/"


def test_the_deployment_guide_lists_every_variable_the_settings_read():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    reference = guide.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", reference, re.M))
    settings_listed = {name for name in listed if not PROVIDER_VARIABLE.match(name)}
    assert settings_variables() - settings_listed == set(), "read by webox/settings.py, missing from the guide"
    assert settings_listed - settings_variables() == set(), "in the guide, read by nothing"
