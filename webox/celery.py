import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webox.settings")

app = Celery("webox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The chat app's tasks live in its streaming package, not in chat/tasks.py.
app.autodiscover_tasks(["chat.streaming"])
