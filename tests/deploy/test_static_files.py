"""Static files under ASGI without a proxy in front (a container run alone, a PaaS): daphne serves
collectstatic's hashed, compressed files itself (WhiteNoise in the one-hop middleware chain), cached for a
year, and compressed for clients that accept it.
"""

from __future__ import annotations

import gzip
import json

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.management import call_command

from testing.asgi import asgi_response
from webox.http_handler import OneHopASGIHandler

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_settings_select_hashed_compressed_static_files(monkeypatch):
    import importlib

    import webox.settings

    monkeypatch.setenv("DJANGO_DEBUG", "0")
    try:
        production = importlib.reload(webox.settings)
        assert production.STORAGES["staticfiles"]["BACKEND"] == MANIFEST_STORAGE
        assert "whitenoise.middleware.WhiteNoiseMiddleware" in production.MIDDLEWARE
    finally:
        monkeypatch.delenv("DJANGO_DEBUG")
        importlib.reload(webox.settings)


@pytest.fixture
def collected(settings, tmp_path):
    """collectstatic with the production storage, of one stylesheet (all of webox's files take 20 s to compress)."""
    source = tmp_path / "source"
    (source / "chat").mkdir(parents=True)
    (source / "chat" / "chat.css").write_text(".turn { display: grid; }\n" * 100)
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((settings.STATIC_ROOT / "staticfiles.json").read_text())["paths"]
    return settings.STATIC_ROOT, manifest


async def get(path: str, **headers: str) -> dict:
    """A GET through webox's ASGI handler (the one daphne runs), its middleware built from the settings now."""
    communicator = ApplicationCommunicator(OneHopASGIHandler(), {
        "type": "http", "method": "GET", "path": path, "query_string": b"", "scheme": "http", "http_version": "1.1",
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1"), *((k.lower().encode(), v.encode()) for k, v in headers.items())]})
    start, body = await asgi_response(communicator)
    return {"status": start["status"], "body": body,
            "headers": {k.decode().lower(): v.decode() for k, v in start["headers"]}}


# Django reads WhiteNoise's file (a sync iterator) in one thread hop, and says so (docs/deployment.md, "Static files").
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_daphne_serves_a_hashed_static_file_compressed_and_cached_for_a_year(collected):
    root, manifest = collected
    name = "chat/chat.css"
    hashed = manifest[name]
    assert hashed != name
    assert (root / f"{hashed}.gz").exists()  # compressed once, at collectstatic

    response = await get(f"/static/{hashed}", **{"Accept-Encoding": "gzip"})
    assert response["status"] == 200
    assert response["headers"]["content-encoding"] == "gzip"
    assert gzip.decompress(response["body"]) == (root / hashed).read_bytes()
    assert response["headers"]["cache-control"] == "max-age=315360000, public, immutable"
    assert "accept-encoding" in response["headers"]["vary"].lower()

    # A name without its hash may change with the next release: cached briefly only.
    plain = await get(f"/static/{name}")
    assert plain["status"] == 200 and "content-encoding" not in plain["headers"]
    assert plain["headers"]["cache-control"] == "max-age=60, public"
