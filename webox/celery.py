import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webox.settings")
# Celery's worker runs Django's system checks at start and discards what they find; running them
# imports every URLconf, view and chart library (7 MB in each worker). `manage.py check --deploy`
# and `migrate` run them where their findings are shown.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("webox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_provider_sdks(**_) -> None:
    """Workers call the providers and price the replies: the SDKs of the providers configured now
    and the price table are loaded, and each SDK's first call made, before the first task
    (chat/providers/sdks.py, chat/usage/pricing.py). Without the database to say which, every SDK is."""
    from django.db import DatabaseError

    from chat.providers.registry import load_sdks, provider_configs, warm_sdks
    from chat.providers.sdks import load_all
    from chat.usage.pricing import load_price_table
    from webox.database import release_pooled_connections

    try:
        configs = provider_configs()
    except DatabaseError:
        load_all()
    else:
        load_sdks(configs)
    finally:
        release_pooled_connections()
    load_price_table()
    warm_sdks()


def route_task(name, args, kwargs, options, task=None, **_):
    """Celery router (``CELERY_TASK_ROUTES``): a reply of a provider named in ``WEBOX_CELERY_PROVIDER_QUEUES``
    goes to that provider's queue; everything else to the default queue."""
    from django.conf import settings

    queues = settings.WEBOX_CELERY_PROVIDER_QUEUES
    if name != "chat.tasks.generate_reply" or not queues or not args:
        return None
    from chat.models import Message

    # Queued after the send's commit (chat.hooks), so the reply's row is there to read.
    provider = Message.objects.filter(pk=args[0]).values_list("provider", flat=True).first()
    queue = queues.get(provider or "")
    return {"queue": queue} if queue else None
