"""What a send does before its replies start: only what they need (their rows); the estimate and the
publish come after (chat/services/turns.py)."""

import pytest

from chat.hooks import replies_stored
from chat.models import Message
from chat.services import message_send
from chat.services.inputs import Column, SendInput
from chat.usage.estimate import columns_estimate


@pytest.mark.django_db(transaction=True)
def test_the_replies_start_before_their_estimate_is_counted_and_then_it_is_stored(user, in_process_runner):
    # In process: the replies this send starts must not be left queued for a worker that never comes.
    columns = [Column(provider="demo", model="demo-echo", parameters={}, key=f"demo#{n + 1}") for n in range(2)]
    at_start = {}

    def record(sender, *, reply_ids, **kwargs):
        at_start.update(Message.objects.filter(pk__in=reply_ids).values_list("pk", "estimate"))

    replies_stored.connect(record, dispatch_uid="test-send-order")
    try:
        result = message_send(user=user, conversation=None,
                              send=SendInput(message="hello there", columns=columns, system_prompt="Be brief."))
    finally:
        replies_stored.disconnect(dispatch_uid="test-send-order")

    assert at_start == {reply.pk: None for reply in result.replies}  # committed, started, not yet estimated
    stored = dict(Message.objects.filter(reply_to=result.user_message).values_list("pk", "estimate"))
    assert stored == {reply.pk: reply.estimate for reply in result.replies}
    # The new conversation's system prompt is counted, as POST /api/chat/estimate counts it.
    counted = columns_estimate(conversation=None, columns=columns, message="hello there", system_prompt="Be brief.",
                               wait_for_tokenizer=False)
    without_prompt = columns_estimate(conversation=None, columns=columns, message="hello there",
                                      wait_for_tokenizer=False)
    assert [reply.estimate for reply in result.replies] == [column.as_dict() for column in counted]
    assert counted[0].input_tokens > without_prompt[0].input_tokens
