import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok_when_the_database_and_redis_answer(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["redis"] == ("ok" if settings.REDIS_URL else "not used")


def test_healthz_is_503_when_redis_cannot_be_reached(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] == "error: ConnectionError"


CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def components(response) -> dict:
    return response.json()["components"]


def test_live_answers_without_touching_anything(client, settings):
    settings.REDIS_URL = CLOSED_REDIS
    response = client.get("/healthz/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_is_200_in_process_with_each_component_timed(client, settings):
    settings.WEBOX_RUNNER = "embedded"
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    parts = components(response)
    assert parts["database"]["state"] == "ok" and parts["database"]["latency_ms"] >= 0
    assert parts["channel_layer"]["state"] == "ok"
    assert parts["workers"] == {"state": "not used", "required": False, "latency_ms": None,
                                "detail": "replies run in-process"}


@pytest.mark.django_db(transaction=True)
def test_ready_is_503_when_the_database_is_down(client, settings):
    from django.db import connection

    settings.WEBOX_RUNNER = "embedded"
    saved = dict(connection.settings_dict)
    connection.close()
    pooled = connection.vendor == "postgresql" and bool(saved["OPTIONS"].get("pool"))
    if connection.vendor == "postgresql":
        connection.settings_dict["PORT"] = "1"
        if pooled:
            # The pool made earlier keeps its working connections: a new one, quick to give up.
            connection.close_pool()
            connection.settings_dict["OPTIONS"] = {**saved["OPTIONS"],
                                                   "pool": {**saved["OPTIONS"]["pool"], "timeout": 1}}
    else:
        connection.settings_dict["NAME"] = "/nonexistent-directory/webox.sqlite3"
    try:
        response = client.get("/healthz/ready")
    finally:
        connection.close()
        if pooled:
            connection.close_pool()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert components(response)["database"]["state"] == "error"
    assert components(response)["database"]["detail"] == "OperationalError"


def test_ready_is_503_when_the_channel_layers_redis_is_down(client, settings):
    settings.WEBOX_RUNNER = "embedded"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                           "CONFIG": {"hosts": [CLOSED_REDIS]}}}
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert components(response)["channel_layer"] | {"latency_ms": 0} == {
        "state": "error", "required": True, "latency_ms": 0, "detail": "ConnectionError"}


def test_ready_is_503_when_the_broker_is_down_and_workers_are_needed(client, settings):
    settings.WEBOX_RUNNER = "celery"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CELERY_BROKER_URL = CLOSED_REDIS
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    parts = components(response)
    assert (parts["broker"]["state"], parts["broker"]["required"]) == ("error", True)
    assert parts["workers"]["state"] == "error" and parts["workers"]["detail"] == "broker unreachable"


def test_ready_is_503_when_no_worker_answers(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (the broker)")
    settings.WEBOX_RUNNER = "celery"
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert components(response)["workers"]["detail"] == "no worker answered"
    assert components(response)["broker"]["state"] == "ok"
