import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webox.settings")

app = Celery("webox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
