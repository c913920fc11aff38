"""The chat page's import map names exactly the modules its scripts import from each other.

A module missing from the map still loads in development (where static URLs are not hashed), but
in production it would be fetched under its plain name instead of its hashed, cache-forever file.
"""

import json
import re
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static
from django.test import Client

MODULES = Path(settings.BASE_DIR) / "chat" / "static" / "chat"


def imported_modules() -> set[str]:
    names = set()
    for path in MODULES.glob("*.js"):
        names.update(re.findall(r'^import .* from "\./([\w.-]+\.js)";$', path.read_text(), re.MULTILINE))
    return names


def test_the_import_map_names_every_module_another_imports(user):
    client = Client()
    client.force_login(user)
    page = client.get("/").content.decode()
    import_map = json.loads(re.search(r'<script type="importmap"[^>]*>(.*?)</script>', page, re.DOTALL).group(1))
    assert import_map["imports"] == {
        f"{settings.STATIC_URL}chat/{name}": static(f"chat/{name}") for name in imported_modules()
    }
