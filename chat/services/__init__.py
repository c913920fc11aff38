"""Writes to conversations and messages: views, consumers, tasks, the admin and the engine call these.

Two writes live elsewhere: an import (``chat.exports.conversations_import``) stores a whole
file of history in one transaction, and ``chat.limits.record_usage`` keeps a user's monthly
usage counters (called from here, when a reply ends).

Split by what each module owns:

- ``inputs``: what a send and a conversation's defaults may hold (the limits, once) and their cleaning.
- ``conversations``: a conversation's own writes (create, change, archive, delete).
- ``turns``: a user's writes on a turn (send, regenerate, stop, choose).
- ``edits``: the tree's writes: edit a sent message into a new branch, switch the branch on screen.
- ``fuse``: a reply that combines a turn's replies, asked of a model the user picks.
- ``replies``: a reply's writes as the streaming engine makes them (claim, checkpoint, end) and the sweep.
- ``operators``: bulk stops for the admin and for accounts, ending a stuck reply.
- ``preferences``: a user's default picks for a new chat.
- ``votes``: a vote on a turn (choosing a reply is a ``best`` vote) and a blind turn's reveal.
- ``blind``: a blind turn's shuffled labels; ``arena``: a blind turn to N random models.

Services import the low-level modules of chat (models, ``errors``, ``events``, ``stream_store``,
``hooks``) and never ``chat.streaming``, which imports them. Their refusals are the exceptions
of ``chat.errors``. The names below are the package's public face.
"""

from .arena import arena_send
from .conversations import (
    conversation_archive,
    conversation_create,
    conversation_delete,
    conversation_update,
    title_from_message,
)
from .edits import conversation_branch_switch, message_edit
from .fuse import DEFAULT_FUSE_PROMPT, fuse_candidates, reply_fuse
from .inputs import SendInput, clean_text, send_input_clean
from .operators import conversation_cancel_replies, reply_end_stuck, user_replies_cancel, user_streaming_replies_stop
from .preferences import user_chat_preferences_update
from .replies import (
    replies_checkpoint,
    replies_end_interrupted,
    replies_sweep_orphans,
    reply_complete,
    reply_fail,
    reply_start,
    reply_stop,
)
from .turns import SendResult, message_send, reply_cancel, reply_choose, reply_regenerate
from .votes import turn_reveal, vote_cast, vote_for_turn, vote_withdraw

__all__ = [
    "DEFAULT_FUSE_PROMPT", "fuse_candidates", "reply_fuse",
    "SendInput", "SendResult", "arena_send", "clean_text", "conversation_archive", "conversation_cancel_replies",
    "conversation_branch_switch", "conversation_create", "conversation_delete", "message_edit",
    "conversation_update", "message_send", "replies_checkpoint",
    "replies_end_interrupted", "replies_sweep_orphans", "reply_cancel", "reply_choose", "reply_complete",
    "reply_end_stuck", "reply_fail", "reply_regenerate", "reply_start", "reply_stop", "send_input_clean",
    "title_from_message", "turn_reveal", "user_chat_preferences_update", "user_replies_cancel",
    "user_streaming_replies_stop", "vote_cast", "vote_for_turn", "vote_withdraw",
]
