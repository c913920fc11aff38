from django.apps import AppConfig


class WeboxConfig(AppConfig):
    name = "webox"
    verbose_name = "webox"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
