"""The embedded default's channel layer: channels' in-memory layer, sweeping for expired messages at most
once a second rather than on every send and receive.

channels' sweep (``_clean_expired``) walks every channel's queue and every group membership, and
the in-memory layer ran it on each ``group_send`` and each ``receive``: with N sockets open, each
delivered message cost O(N) twice, a walk repeated thousands of times a second by 50 streams.
A message still expires (after the layer's ``expiry``, 60 s) and a membership after its
``group_expiry``; each is now dropped up to a second later than before.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    sweep_interval = 1.0  # seconds between two sweeps for expired messages and memberships

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._swept_at = float("-inf")

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._swept_at < self.sweep_interval:
            return
        self._swept_at = now
        super()._clean_expired()
