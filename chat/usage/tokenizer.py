"""Token counts of text before it is sent, with OpenAI's own tokenizers, offline.

bpe-openai ships the cl100k_base and o200k_base tables inside the package (tiktoken downloads its
tables on first use, which a server without internet cannot). A model OpenAI publishes a tokenizer
for is counted exactly; any other model (Claude, Llama, a local model…) is counted with o200k_base
and marked as an approximation: its own tokenizer splits text differently, usually within a few
percent for English.

The package and a table take about 3 s and 60 MB to load, once per process, on first use (one
thread loads while the others wait). Counts are cached by a digest of the text (not the text
itself, which may be long), so an estimate of a long conversation repeated as the user types
counts only what is new.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

APPROXIMATING_ENCODING = "o200k_base"
# OpenAI's counting of a chat request: each message carries a few tokens of framing, and the
# reply is primed with a few more (the rule OpenAI's cookbook gives for its chat models).
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMER = 3
# OpenAI's models by prefix (as tiktoken's model table maps them), newest family first.
ENCODING_PREFIXES = (
    (("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4", "gpt-oss"), "o200k_base"),
    (("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002"), "cl100k_base"),
)

CACHED_COUNTS = 50_000

_load_lock = threading.Lock()
_encodings: dict[str, object] = {}
_counts_lock = threading.Lock()
_counts: OrderedDict[bytes, int] = OrderedDict()


@dataclass(frozen=True)
class Tokenizer:
    """How a model's text is counted: the table's name and whether it is the model's own."""

    encoding: str
    exact: bool


def tokenizer_for(model: str, *, kind: str) -> Tokenizer:
    """The model's own table where OpenAI publishes one (kind ``openai``), else the approximating one."""
    if kind == "openai":
        name = model.rsplit("/", 1)[-1].lower()
        for prefixes, encoding_name in ENCODING_PREFIXES:
            if name.startswith(prefixes):
                return Tokenizer(encoding_name, True)
    return Tokenizer(APPROXIMATING_ENCODING, False)


def encoding(name: str):
    """The table ``name``, loaded on first use (once, whichever thread asks first)."""
    found = _encodings.get(name)
    if found is None:
        with _load_lock:
            found = _encodings.get(name)
            if found is None:
                # Imported here, under the lock: the import alone takes seconds (it reads its tables).
                found = _encodings[name] = importlib.import_module("bpe_openai").get_encoding(name)
    return found


def is_loaded(name: str) -> bool:
    return name in _encodings


def _digest(text: str, encoding_name: str) -> bytes:
    return hashlib.blake2b(f"{encoding_name}\n{text}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


def count_text(text: str, encoding_name: str) -> int:
    """Tokens of ``text`` in the table; special-token markers in it count as plain text."""
    if not text:
        return 0
    key = _digest(text, encoding_name)
    with _counts_lock:
        if key in _counts:
            _counts.move_to_end(key)
            return _counts[key]
    count = len(encoding(encoding_name).encode_ordinary(text))
    with _counts_lock:
        _counts[key] = count
        if len(_counts) > CACHED_COUNTS:
            _counts.popitem(last=False)
    return count


def uncached_chars(texts: list[str], encoding_name: str) -> int:
    """How many characters of ``texts`` counting them would have to tokenize (not counted before)."""
    with _counts_lock:
        return sum(len(text) for text in texts if text and _digest(text, encoding_name) not in _counts)


def count_chat(texts: list[str], encoding_name: str) -> int:
    """Tokens of a chat request whose messages (system prompt included) hold ``texts``."""
    return sum(count_text(text, encoding_name) + TOKENS_PER_MESSAGE for text in texts) + TOKENS_REPLY_PRIMER
