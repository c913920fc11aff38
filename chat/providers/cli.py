"""``manage.py providers list|add|remove|check|rotate-keys``: providers for operators working from a shell.

Keys are never taken on the command line (shell history, ``ps``): ``add`` reads one from an
environment variable (``--api-key-env``) or from standard input (``--api-key-stdin``).
"""

from __future__ import annotations

import os
import sys

from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from .models import Provider, ProviderKind
from .registry import all_provider_configs
from .services import provider_check, provider_create, provider_delete, provider_rotate_keys


class Command(BaseCommand):
    help = "List, add, remove and check AI providers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every provider, where it comes from, and whether it has a key.")

        add = sub.add_parser("add", help="Add a provider record (as the admin does).")
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=[kind.value for kind in ProviderKind])
        add.add_argument("--base-url", default="")
        key = add.add_mutually_exclusive_group()
        key.add_argument("--api-key-env", metavar="VAR", help="Read the key from this environment variable.")
        key.add_argument("--api-key-stdin", action="store_true", help="Read the key from standard input.")
        add.add_argument("--models", default="", help="Comma-separated model names.")
        add.add_argument("--default-model", default="")
        add.add_argument("--allowed-models", default="",
                         help="Comma-separated names or patterns (gpt-4o*): the only models users may ask for.")
        add.add_argument("--disabled", action="store_true")

        remove = sub.add_parser("remove", help="Remove a provider record.")
        remove.add_argument("name")

        check = sub.add_parser("check", help="Make a tiny real call to each provider and report.")
        check.add_argument("names", nargs="*", help="Only these providers (default: every enabled one).")
        check.add_argument("--model", default="", help="The model to call (default: the provider's default).")

        sub.add_parser("rotate-keys", help="Re-encrypt stored keys with the first WEBOX_ENCRYPTION_KEYS key.")

    def handle(self, *args, action: str, **options):
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def handle_list(self, **options) -> None:
        rows = [("NAME", "KIND", "SOURCE", "ENABLED", "KEY", "DEFAULT MODEL", "MODELS", "BASE URL")]
        for config, enabled in sorted(all_provider_configs(), key=lambda item: item[0].name):
            rows.append((
                config.name, config.kind, config.source, "yes" if enabled else "no",
                "set" if config.api_key else "-", config.default_model or "-", str(len(config.models)),
                config.base_url or "(default)",
            ))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    def handle_add(self, *, name, kind, base_url, api_key_env, api_key_stdin, models, default_model, disabled,
                   allowed_models="", **options) -> None:
        if api_key_env:
            if api_key_env not in os.environ:
                raise CommandError(f"The environment variable {api_key_env} is not set.")
            api_key = os.environ[api_key_env]
        elif api_key_stdin:
            api_key = sys.stdin.readline().strip()
        else:
            api_key = ""
        try:
            provider_create(
                name=name, kind=kind, base_url=base_url, api_key=api_key, enabled=not disabled,
                model_names=[m.strip() for m in models.split(",") if m.strip()], default_model=default_model,
                allowed_models=[m.strip() for m in allowed_models.split(",") if m.strip()],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(errors)}"
                                         for field, errors in exc.message_dict.items())) from None
        self.stdout.write(self.style.SUCCESS(f"Added provider {name} ({kind})."))

    def handle_remove(self, *, name, **options) -> None:
        provider = Provider.objects.filter(name=name).first()
        if provider is None:
            sources = {config.name: config.source for config, _ in all_provider_configs()}
            if name in sources:
                raise CommandError(f"{name} comes from the {sources[name]} configuration, not from a record: "
                                   "unset its environment variables (or WEBOX_DEMO_PROVIDER=0) instead.")
            raise CommandError(f"No provider named {name}.")
        provider_delete(provider=provider)
        self.stdout.write(self.style.SUCCESS(f"Removed provider {name}."))

    def handle_check(self, *, names, model, **options) -> None:
        configs = {config.name: config for config, enabled in all_provider_configs() if enabled or config.name in names}
        unknown = [name for name in names if name not in configs]
        if unknown:
            raise CommandError(f"No enabled provider named {', '.join(unknown)}.")
        failures = 0
        for name in names or sorted(configs):
            result = async_to_sync(provider_check)(configs[name], model=model)
            line = f"{result.name}: {result.outcome}"
            if result.model:
                line += f" ({result.model}, {result.duration_ms} ms)"
            if result.detail:
                line += f" - {result.detail}"
            self.stdout.write(self.style.SUCCESS(line) if result.ok else self.style.ERROR(line))
            failures += not result.ok
        if failures:
            raise CommandError(f"{failures} provider(s) failed the check.")

    def handle_rotate_keys(self, **options) -> None:
        self.stdout.write(f"Re-encrypted {provider_rotate_keys()} key(s).")
