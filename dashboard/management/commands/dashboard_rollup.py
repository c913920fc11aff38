"""``manage.py dashboard_rollup [--check]``: rebuild the dashboard's daily rollup from the replies, or check it."""

from django.core.management.base import BaseCommand

from dashboard.rollup import rollup_differences, rollup_rebuild


class Command(BaseCommand):
    help = ("Recompute the dashboard's daily rollup from the stored replies (it is kept up to date by database "
            "triggers; this is for a restore done without them, or to be sure). --check only compares.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Compare the rollup with the replies and list the differences; exit 1 if any.")

    def handle(self, *args, check: bool, **options):
        if check:
            problems = rollup_differences()
            for problem in problems[:50]:
                self.stdout.write(problem)
            if problems:
                self.stderr.write(f"{len(problems)} rollup rows differ from the replies; run dashboard_rollup.")
                raise SystemExit(1)
            self.stdout.write(self.style.SUCCESS("The rollup matches the replies."))
            return
        rollup_rebuild()
        self.stdout.write(self.style.SUCCESS("The rollup was rebuilt from the replies."))
