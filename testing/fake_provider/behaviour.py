"""What a request to the fake provider gets, read from its model name, and the text it streams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_API_KEY = "test-key"
MODEL_PREFIX = "fake-echo"
_INT_OPTIONS = ("tokens", "delay_ms", "ttft_ms", "error", "fail_times", "drop_after", "hang_after", "error_after")


def expected_reply(last_user_message: str, tokens: int | None = None) -> list[str]:
    """The exact pieces the server streams for ``fake-echo`` (``tokens=`` makes it that long).

    "You said: " and then the message a word at a time, its line breaks kept, so a message
    holding Markdown blocks (headings, lists, tables, code) comes back as the same Markdown.
    """
    echoed = re.findall(r"\s*\S+", last_user_message) or ["(nothing)"]
    if not echoed[0][0].isspace():
        echoed[0] = " " + echoed[0]
    pieces = ["You", " said:", *echoed]
    count = len(pieces) if tokens is None else tokens
    # Beyond the end the reply starts over, a space before its first word.
    return [pieces[i % len(pieces)] if i < len(pieces) or i % len(pieces) else " You" for i in range(count)]


class BadModel(ValueError):
    pass


@dataclass(frozen=True)
class Behaviour:
    model: str
    tokens: int | None = None
    delay_ms: int = 0
    ttft_ms: int = 0
    error: int | None = None
    retry_after: str | None = None
    fail_times: int | None = None
    error_after: int | None = None
    drop_after: int | None = None
    hang_before: str | None = None
    hang_after: int | None = None

    @classmethod
    def parse(cls, model: str) -> Behaviour:
        base, *options = model.split(";")
        if base != MODEL_PREFIX:
            raise LookupError(model)
        values: dict[str, Any] = {}
        for option in options:
            key, _, value = option.partition("=")
            key = key.strip()
            if key == "id":
                continue
            if key in _INT_OPTIONS:
                try:
                    values[key] = int(value)
                except ValueError:
                    raise BadModel(f"{key} must be an integer") from None
            elif key in ("retry_after", "hang_before"):
                values[key] = value
            else:
                raise BadModel(f"unknown option {key!r}")
        return cls(model=model, **values)
