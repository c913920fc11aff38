"""Fuse: a model the user picks combines a turn's replies into one answer, a reply of its own.

The fused reply answers the same user message as the replies it combines, in a column of its own
(``fuse``, ``fuse#2``… for the turn's next fuses), and is generated like any reply (the hook of
chat/hooks.py, then the streaming engine). It is sent one user message: the fuse prompt, in which
the question and the replies are filled in (chat/context.py). Its provenance is stored on it
(``Message.fuse``: the ids of the replies and that exact prompt). docs/compare.md, "Fuse".
"""

from __future__ import annotations

import re

from django.db import transaction

from chat import blinding, events, hooks, limits
from chat.errors import ChatInputError
from chat.models import Message, ReplyStatus, Role
from chat.providers import provider_configs
from chat.serializers import message_data

from .inputs import MAX_PROVIDER_NAME_CHARS, MAX_SYSTEM_PROMPT_CHARS, _allowed_model, clean_text

QUESTION = "{question}"
REPLIES = "{replies}"
PLACEHOLDER = re.compile(r"\{question\}|\{replies\}")
MAX_FUSE_SOURCES = 16
FUSE_COLUMN = "fuse"

DEFAULT_FUSE_PROMPT = """\
Several assistants answered the question below independently. Write one answer to the question \
that is better than each of their replies: keep what is correct and useful in any of them, \
resolve their disagreements (say so where you cannot), and leave out what is wrong or repeated. \
Answer the question directly, without mentioning the replies or the assistants.

<question>
{question}
</question>

{replies}"""


def reply_block(number: int, text: str) -> str:
    """One reply as the prompt delimits it: numbered, never named (no provider or model)."""
    return f'<reply number="{number}">\n{text}\n</reply>'


def fuse_prompt(template: str, *, question: str, replies: list[str]) -> str:
    """The template with the question and the delimited replies filled in (plain replacement: no format
    syntax, so braces in the template or the texts are kept as they are)."""
    values = {QUESTION: question,
              REPLIES: "\n\n".join(reply_block(number, text) for number, text in enumerate(replies, start=1))}
    # One pass: a question or a reply that holds "{replies}" stays as written.
    return PLACEHOLDER.sub(lambda match: values[match.group()], template)


def fuse_template_clean(template) -> str:
    if not isinstance(template, str) or not template.strip():
        raise ChatInputError("Write the fuse prompt first.", field="prompt")
    if len(template) > MAX_SYSTEM_PROMPT_CHARS:
        raise ChatInputError(f"The fuse prompt holds at most {MAX_SYSTEM_PROMPT_CHARS} characters.", field="prompt")
    if REPLIES not in template:
        raise ChatInputError(f"The fuse prompt must hold {REPLIES}, where the replies go.", field="prompt")
    return clean_text(template, field="prompt")


def fuse_candidates(user_message: Message) -> list[Message]:
    """The replies a fuse combines by default: each column's latest finished reply, fused ones left out."""
    latest: dict[str, Message] = {}
    for reply in user_message.replies.filter(role=Role.ASSISTANT, status=ReplyStatus.COMPLETE, fuse__isnull=True
                                             ).exclude(content="").order_by("id"):
        latest[reply.column or reply.provider] = reply
    return sorted(latest.values(), key=lambda reply: reply.pk)


def fuse_sources(user_message: Message, reply_ids) -> list[Message]:
    """The replies named, each a finished reply of this turn, in the order given (duplicates once)."""
    if reply_ids is None:
        sources = fuse_candidates(user_message)
        if not sources:
            raise ChatInputError("This turn has no finished reply to fuse.", field="replies")
        return sources
    if (not isinstance(reply_ids, list) or not reply_ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in reply_ids)):
        raise ChatInputError("replies must be a non-empty list of reply ids.", field="replies")
    reply_ids = list(dict.fromkeys(reply_ids))
    if len(reply_ids) > MAX_FUSE_SOURCES:
        raise ChatInputError(f"Fuse at most {MAX_FUSE_SOURCES} replies.", field="replies")
    # Scoped to the turn (and so to its owner): another turn's or another user's reply is simply not found.
    found = {reply.pk: reply for reply in user_message.replies.filter(
        pk__in=reply_ids, role=Role.ASSISTANT, conversation_id=user_message.conversation_id)}
    missing = [i for i in reply_ids if i not in found]
    if missing:
        raise ChatInputError(f"Message {missing[0]} is not a reply of this turn.", field="replies")
    unfinished = [i for i in reply_ids if found[i].status != ReplyStatus.COMPLETE or not found[i].content]
    if unfinished:
        raise ChatInputError(f"Reply {unfinished[0]} has not finished (or is empty): only finished replies "
                             "can be fused.", field="replies")
    return [found[i] for i in reply_ids]


def _fuse_column(user_message: Message) -> str:
    taken = set(user_message.replies.values_list("column", flat=True))
    number = 1
    while (key := FUSE_COLUMN if number == 1 else f"{FUSE_COLUMN}#{number}") in taken:
        number += 1
    return key


def _fuse_target(provider, model) -> tuple[str, str]:
    configs = {config.name: config for config in provider_configs()}
    config = configs.get(provider) if isinstance(provider, str) else None
    if config is None:
        raise ChatInputError(f"Unknown provider {str(provider)[:MAX_PROVIDER_NAME_CHARS]!r}.", field="provider")
    return config.name, _allowed_model(config, model, field="model")


def reply_fuse(*, user_message: Message, provider, model=None, reply_ids=None, prompt=None) -> Message:
    """A new reply to ``user_message`` from ``provider``/``model`` combining ``reply_ids`` (default:
    ``fuse_candidates``), asked with ``prompt`` (a template holding ``{replies}`` and usually
    ``{question}``; default ``DEFAULT_FUSE_PROMPT``); started like a regenerated reply."""
    if user_message.role != Role.USER or user_message.reply_to_id is not None:
        raise ChatInputError("Fuse the replies of a turn: name the user's message.")
    provider, model = _fuse_target(provider, model)
    template = fuse_template_clean(DEFAULT_FUSE_PROMPT if prompt is None else prompt)
    owner = user_message.conversation.owner
    limits.check_send_rate(owner)
    with transaction.atomic():
        limits.check_new_replies(owner, 1, limits.lock_user_and_read_limits(owner))
        sources = fuse_sources(user_message, reply_ids)
        if any(blinding.hidden(source) for source in sources):
            # Its prompt and provenance would hold the replies' text unmasked, naming their models.
            raise ChatInputError("Vote or reveal this blind turn before fusing its replies.")
        text = fuse_prompt(template, question=user_message.content, replies=[reply.content for reply in sources])
        reply = Message.objects.create(
            conversation=user_message.conversation, role=Role.ASSISTANT, provider=provider, model=model,
            column=_fuse_column(user_message), reply_to=user_message, status=ReplyStatus.PENDING,
            fuse={"sources": [source.pk for source in sources], "prompt": text, "template": template},
        )
        user_message.conversation.save(update_fields=["updated_at"])
        hooks.announce_replies_stored([reply.pk])
        events.publish_on_commit(reply.conversation_id, [events.message_created(message_data(reply))])
    return reply
