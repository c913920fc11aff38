from django.apps import AppConfig
from django.conf import settings


class StreamingConfig(AppConfig):
    name = "chat.streaming"
    label = "streaming"

    def ready(self) -> None:
        # Imported here, as Django apps do: the runner reaches the engine, services and models.
        from chat.hooks import replies_stored

        from .runners import on_replies_stored

        # Every reply that services store is started (chat/hooks.py).
        replies_stored.connect(on_replies_stored, dispatch_uid="chat.streaming.start_replies")
        if settings.WEBOX_RUNNER == "embedded":  # this process calls the providers and prices the replies
            from chat.providers.registry import env_provider_configs, load_sdks
            from chat.usage.pricing import load_price_table

            # The environment's providers only: no database query while the apps load. A Provider
            # record's SDK loads, off the loop, with its first reply (chat/providers/registry.py, sdks.py).
            load_sdks(env_provider_configs())
            load_price_table()
