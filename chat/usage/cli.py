"""``manage.py usage_backfill``: usage and cost for replies that ended before webox stored them."""

from django.core.management.base import BaseCommand

from .services import replies_usage_backfill


class Command(BaseCommand):
    help = ("Compute token usage (estimated where the provider sent none) and cost for ended replies. "
            "Safe to run again: replies already priced are skipped, unchanged ones are not written.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Replies per transaction (default 500).")
        parser.add_argument("--recompute", action="store_true",
                            help="Price every ended reply again, e.g. after changing the price table.")

    def handle(self, *args, batch_size: int, recompute: bool, **options):
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1.")
            raise SystemExit(2)
        changed = replies_usage_backfill(batch_size=batch_size, recompute=recompute,
                                         progress=lambda n: self.stdout.write(f"  {n} replies updated so far"))
        self.stdout.write(self.style.SUCCESS(f"{changed} replies updated."))
