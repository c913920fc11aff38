"""``manage.py webox_doctor``: is this installation able to serve its users? One line per part.

Exit code 1 when something a user needs is broken (a FAIL line); warnings do not fail it.
"""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage, staticfiles_storage
from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.services import signup_mode
from chat.providers import provider_check
from chat.providers.crypto import SecretDecryptError, decrypt_secret
from chat.providers.models import Provider
from chat.providers.registry import all_provider_configs
from dashboard.ops import health

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "skip"


class Command(BaseCommand):
    help = "Check settings, database, Redis, channel layer, broker, workers, providers and static files."

    def add_arguments(self, parser):
        parser.add_argument("--no-provider-calls", action="store_true",
                            help="Check provider keys only; make no call to any provider.")

    def handle(self, *, no_provider_calls: bool = False, **options):
        self.failures = 0
        self.line("settings", *self.check_settings())
        database = self.check_database()
        self.line("database", *database)
        migrated = database[0] == OK and self.line("migrations", *self.check_migrations()) == OK
        self.line("redis", *self.check_redis())
        self.line("channel layer", *self.check_channel_layer())
        broker = health.broker_component()
        self.line("broker", *self.component(broker))
        self.line("workers", *self.component(health.workers_component(broker=broker)))
        if migrated:
            for name, (state, detail) in self.check_providers(calls=not no_provider_calls):
                self.line(f"provider {name}", state, detail)
        else:
            self.line("providers", SKIP, "not checked: the database is unreachable or not migrated")
        self.line("static files", *self.check_static())
        if self.failures:
            raise CommandError(f"{self.failures} check(s) failed.")

    def line(self, name: str, state: str, detail: str) -> str:
        if state == FAIL:
            self.failures += 1
        style = {OK: self.style.SUCCESS, WARN: self.style.WARNING, FAIL: self.style.ERROR}.get(state, str)
        self.stdout.write(f"{style(f'{state:<4}')}  {name:<22} {detail}")
        return state

    @staticmethod
    def component(component: health.Component) -> tuple[str, str]:
        if component.state == health.NOT_USED:
            return SKIP, f"not used ({component.detail})"
        if component.state == health.OK:
            return OK, f"{component.detail} ({component.latency_ms} ms)"
        return (FAIL if component.required else WARN), component.detail

    def check_settings(self) -> tuple[str, str]:
        messages = checks.run_checks(include_deployment_checks=not settings.DEBUG)
        errors = [m.id or str(m) for m in messages if m.level >= checks.ERROR]
        warnings = [m.id or str(m) for m in messages if m.level < checks.ERROR and not m.is_silenced()]
        summary = (f"runner {settings.WEBOX_RUNNER}, DEBUG {'on' if settings.DEBUG else 'off'}, "
                   f"sign-up {signup_mode()}")
        if errors:
            return FAIL, f"{summary}; system check errors: {', '.join(errors)} (run manage.py check)"
        if warnings:
            return WARN, f"{summary}; warnings: {', '.join(warnings)}"
        return OK, summary

    def check_database(self) -> tuple[str, str]:
        component = health.database_component()
        if component.state != health.OK:
            return FAIL, f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} unreachable: {component.detail}"
        return OK, f"{component.detail} {settings.DATABASES['default']['NAME']} ({component.latency_ms} ms)"

    def check_migrations(self) -> tuple[str, str]:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
            return FAIL, f"{len(plan)} not applied ({names}…): run manage.py migrate"
        return OK, "all applied"

    def check_redis(self) -> tuple[str, str]:
        if not settings.REDIS_URL:
            return SKIP, "not used (REDIS_URL unset: in-memory stream store)"
        status = health.check_redis()
        return (OK, "answers") if status == "ok" else (FAIL, status)

    def check_channel_layer(self) -> tuple[str, str]:
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        if "hosts" not in settings.CHANNEL_LAYERS["default"].get("CONFIG", {}):
            return OK, f"{backend} (one process only)"

        async def round_trip() -> float:
            layer = get_channel_layer()
            started = time.perf_counter()
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "doctor.ping"})
            await asyncio.wait_for(layer.receive(channel), health.PROBE_TIMEOUT)
            elapsed = (time.perf_counter() - started) * 1000
            await layer.flush()
            return elapsed

        try:
            elapsed = async_to_sync(round_trip)()
        except Exception as exc:  # any failure means the sockets would get no events
            return FAIL, f"{backend}: no round trip ({type(exc).__name__})"
        return OK, f"{backend}: a message went round in {elapsed:.1f} ms"

    def check_providers(self, *, calls: bool):
        records = {record.name: record for record in Provider.objects.all()}
        configs = [(config, enabled) for config, enabled in all_provider_configs()]
        if not any(enabled for _, enabled in configs):
            yield "(none)", (FAIL, "no provider is enabled: users cannot get any reply")
        for config, enabled in configs:
            if not enabled:
                yield config.name, (SKIP, "disabled")
                continue
            record = records.get(config.name)
            if record is not None and record.api_key_encrypted:
                try:
                    decrypt_secret(record.api_key_encrypted)
                except SecretDecryptError:
                    yield config.name, (FAIL, "its stored key cannot be decrypted with WEBOX_ENCRYPTION_KEYS")
                    continue
            if not calls:
                yield config.name, (OK, f"{config.source}, key readable (not called)")
                continue
            result = async_to_sync(provider_check)(config)
            if result.ok:
                yield config.name, (OK, f"{config.source}, {result.model} answered in {result.duration_ms} ms")
            else:
                yield config.name, (FAIL, f"{config.source}, {result.outcome}: {result.detail}")

    def check_static(self) -> tuple[str, str]:
        probe = "webox/app.css"
        if isinstance(staticfiles_storage, ManifestStaticFilesStorage):
            try:
                url = staticfiles_storage.url(probe)
            except ValueError:
                return FAIL, f"{probe} is not in the manifest: run manage.py collectstatic --noinput"
            if not staticfiles_storage.exists(staticfiles_storage.stored_name(probe)):
                return FAIL, f"{url} is missing from STATIC_ROOT: run manage.py collectstatic --noinput"
            return OK, f"collected in {settings.STATIC_ROOT} ({url})"
        if not finders.find(probe):
            return FAIL, f"{probe} not found"
        return OK, "served from the apps' static folders"
