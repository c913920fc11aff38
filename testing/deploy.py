"""The deployment files in ``deploy/`` as the tests and benchmarks run them: the Procfile's commands (the
one source of truth for systemd and compose) and the nginx site file, rendered for loopback ports.

``procfile_process`` starts a Procfile command as a ``testing.processes.Process``; ``Nginx`` runs
Debian's nginx with the site file in front of daphne servers on loopback, nothing but its ports changed.
"""

from __future__ import annotations

import getpass
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .processes import ROOT, Process, free_port, started

DEPLOY = ROOT / "deploy"
PROCFILE = DEPLOY / "Procfile"
NGINX_SITE = DEPLOY / "nginx" / "webox.conf"
# The site file's daphne servers (deploy/systemd/webox-web@8001, @8002) and its folder of static files.
SITE_UPSTREAMS = ("127.0.0.1:8001", "127.0.0.1:8002")
SITE_STATIC_ROOT = "/srv/webox/staticfiles/"


def procfile() -> dict[str, str]:
    """The Procfile's commands by process type, as written (``$VAR`` not expanded)."""
    commands = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            kind, _, command = line.partition(":")
            commands[kind.strip()] = command.strip()
    return commands


def procfile_args(kind: str, env: dict[str, str]) -> list[str]:
    """The Procfile command of ``kind`` as argv: ``$VAR`` from ``env``, the program from this interpreter's bin/."""
    args = [re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], arg) for arg in shlex.split(procfile()[kind])]
    program = Path(sys.executable).parent / args[0]
    return [str(program) if program.exists() else args[0], *args[1:]]


def procfile_process(kind: str, env: dict[str, str], log: Path, *extra: str) -> Process:
    """The Procfile's ``kind`` process (plus ``extra`` arguments), started; not yet waited for."""
    return Process([*procfile_args(kind, env), *extra], env, log)


def start_web(log_dir: Path, env: dict[str, str], port: int | None = None) -> tuple[Process, int]:
    """The Procfile's ``web`` (daphne) on a loopback port, once it listens."""
    port = port or free_port()
    process = procfile_process("web", {**env, "HOST": "127.0.0.1", "PORT": str(port)},
                               Path(log_dir) / f"web-{port}.log")
    return started(process, port=port), port


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def render_site(upstream_ports: list[int], listen_port: int, static_root: Path) -> str:
    """The site file with only its addresses changed: loopback ports for its servers and its listener."""
    site = NGINX_SITE.read_text()
    lines = [f"    server 127.0.0.1:{port};" for port in upstream_ports]
    first, *others = [f"    server {address};" for address in SITE_UPSTREAMS]
    assert first in site and all(other in site for other in others), "the site's upstream servers changed"
    site = site.replace(first, "\n".join(lines))
    for other in others:
        site = site.replace(other + "\n", "")
    assert "    listen 80;" in site and SITE_STATIC_ROOT in site
    site = site.replace("    listen 80;", f"    listen 127.0.0.1:{listen_port};")
    return site.replace(SITE_STATIC_ROOT, f"{static_root}/")


def nginx_conf(directory: Path, site: str) -> Path:
    """A main configuration around ``site`` that keeps every file nginx writes inside ``directory``; its workers run
    as this user (as root, nginx would switch them to nobody, who cannot read a test's folders)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "site.conf").write_text(site)
    conf = directory / "nginx.conf"
    conf.write_text(f"""
daemon off;
user {getpass.getuser()};
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{ text/css css; application/javascript js; image/svg+xml svg; }}
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/site.conf;
}}
""")
    return conf


def nginx_test(conf: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` on ``conf``: exit code 0 and "syntax is ok" when nginx accepts it."""
    return subprocess.run([nginx_binary(), "-t", "-c", str(conf), "-p", str(conf.parent)], capture_output=True,
                          text=True, timeout=30)


class Nginx:
    """Debian's nginx with the site file, listening on a free loopback port in front of ``upstream_ports``."""

    def __init__(self, directory: Path, upstream_ports: list[int], static_root: Path):
        self.port = free_port()
        self.conf = nginx_conf(directory, render_site(upstream_ports, self.port, static_root))

    def start(self) -> Nginx:
        self.process = started(Process([nginx_binary(), "-c", str(self.conf), "-p", str(self.conf.parent)], {},
                                       self.conf.parent / "nginx.out"), port=self.port)
        return self

    def stop(self) -> None:
        self.process.stop()
