"""Usage and cost of replies: token estimates, prices, and what is stored when a reply ends.

Lives in chat because every ended reply records its usage here (``chat.services`` calls
``usage_fields`` inside the final write). It imports chat's models and ``chat.context`` and the
providers' interface; it never imports ``chat.streaming``. The dashboard reads what it stores.
"""
