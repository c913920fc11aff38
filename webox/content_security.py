"""webox's Content-Security-Policy (django-csp 4), the ``CONTENT_SECURITY_POLICY`` setting.

No inline script, no inline handlers, nothing from another origin. The one inline script
(the chat page's import map) carries the per-request nonce, and so do ReDoc's <style> elements.
"""

import base64
import hashlib

from csp.constants import NONCE, NONE, SELF, UNSAFE_HASHES

# Rendered Markdown aligns table columns with exactly these style attributes (chat/rendering.py).
_TABLE_ALIGN = [
    "'sha256-{}'".format(base64.b64encode(hashlib.sha256(f"text-align:{side}".encode()).digest()).decode())
    for side in ("left", "center", "right")
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # The nonce is sent only on pages that use it: ReDoc's generated <style> elements (api_docs/redoc.html).
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_HASHES, *_TABLE_ALIGN],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # ReDoc (/api/redoc/) runs its search in a worker made from a blob.
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
