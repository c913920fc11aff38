"""The embedded default's channel layer (webox/channel_layers.py): channels' in-memory layer, whose sweep
for expired messages runs at most once a second instead of on every send and receive."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

from webox.channel_layers import InMemoryChannelLayer


@pytest.mark.asyncio
async def test_many_sends_and_receives_within_a_second_sweep_once(monkeypatch):
    sweeps = []
    original = ChannelsInMemoryChannelLayer._clean_expired
    monkeypatch.setattr(ChannelsInMemoryChannelLayer, "_clean_expired", lambda self: sweeps.append(1) or original(self))
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("conversation", channel)
    for n in range(100):
        await layer.group_send("conversation", {"type": "x", "n": n})
        assert (await layer.receive(channel))["n"] == n

    assert len(sweeps) == 1


@pytest.mark.asyncio
async def test_an_expired_message_and_its_channels_memberships_are_still_dropped():
    layer = InMemoryChannelLayer(expiry=0.05)
    layer.sweep_interval = 0.1
    gone, live = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("conversation", gone)
    await layer.group_send("conversation", {"type": "never read"})  # sweeps: the next sweep is due in 0.1 s
    await asyncio.sleep(0.2)
    await layer.send(live, {"type": "x"})
    assert (await layer.receive(live))["type"] == "x"  # a receive after the interval sweeps

    assert gone not in layer.channels
    assert gone not in layer.groups.get("conversation", {})
