"""The chat REST API (URLs in chat/api_urls.py): thin views over chat.services (writes) and chat/selectors.py (reads).

One module per part: ``send`` (send and estimate), ``conversations``, ``messages`` (stop, regenerate,
choose, fuse), ``tree`` (edit and resend, branches), ``votes`` (votes, reveal, arena), ``folders``,
``search``, ``preferences``, ``exports`` and ``imports``; ``common`` holds what they share.
"""
