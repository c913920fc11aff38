"""Read-only share links (docs/security.md, "Share links"): a conversation's branch as it was when shared.

``services`` creates and revokes links, ``selectors`` finds them and reads what a link shows,
``page`` turns that into what the public page renders (blind turns hidden through chat/blinding.py,
figures only when the owner asked), ``api`` and ``views`` are the thin edges. It imports the
low-level modules of chat (models, tree, blinding, rendering, errors) and ``chat.api.common``'s helpers; only
the URL modules and the chat page's view (which asks whether to offer Share) import it (an
import-linter contract in pyproject.toml).
"""
