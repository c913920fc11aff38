"""Operations: what an operator reads and does besides the chat (docs/operations.md).

- ``health``: the component checks (database, channel layer, broker, Celery workers), no HTTP.
- ``metrics``: the Prometheus figures, read from the database and the broker at scrape time, no HTTP.
- ``status``: the ops page's figures (workers, queues, replies now, recent failures) and a
  worker's drain and resume, no HTTP.
- ``views`` and ``urls``: every HTTP endpoint of the above: ``/healthz``, ``/healthz/live``,
  ``/healthz/ready``, ``/metrics``, the staff page ``/dashboard/ops/`` and its JSON ``/api/ops/``.
- ``manage.py webox_doctor`` (dashboard/management/commands/webox_doctor.py) uses ``health``.

Imports chat's models and services and the Celery app. Nothing else imports this package except
the URLconfs (webox/urls.py and dashboard/urls.py include ``urls``) and the doctor command.
"""
