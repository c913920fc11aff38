"""What scenario ``e2e`` sends: the fake provider's model strings (its behaviour) for each kind of wave."""

from __future__ import annotations

MODEL = "fake-echo;tokens=100;delay_ms=20;ttft_ms=200"  # 200 ms to the first token, then 50 tokens/s: 2.2 s
TOKENS = 100  # per reply of MODEL and SLOW_MODEL
SLOW_MODEL = "fake-echo;tokens=100;delay_ms=50;ttft_ms=200"  # 20 tokens/s: 5.2 s
# Four providers, both wire formats, from the environment (openai, anthropic) and from Provider records.
FANOUT = {"openai": "fake-echo;tokens=60;delay_ms=20;ttft_ms=150",
          "anthropic": "fake-echo;tokens=80;delay_ms=20;ttft_ms=250",
          "fake3": "fake-echo;tokens=40;delay_ms=30;ttft_ms=300",
          "fake4": "fake-echo;tokens=100;delay_ms=20;ttft_ms=400"}
SLOWEST = "fake4"
