"""What each provider is sent: its own thread, the chosen reply, fallbacks, and trimming."""

import pytest
from django.db.models.signals import post_init

from chat.context import build_chat_request
from chat.models import Message, ReplyStatus
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def ask(conversation, question):
    """A user message following the conversation's last turn, as a send stores it."""
    last = conversation.messages.filter(role="user").order_by("-id").first()
    return Message.objects.create(conversation=conversation, role="user", content=question, parent=last)


def turn(conversation, question, answers, *, chosen=None):
    """A user message and replies {provider: (status, content)}; returns (question, {provider: reply})."""
    asked = ask(conversation, question)
    replies = {
        provider: Message.objects.create(
            conversation=conversation, role="assistant", provider=provider, model="m", reply_to=asked,
            status=status, content=content, chosen=(provider == chosen),
        )
        for provider, (status, content) in answers.items()
    }
    return asked, replies


def pending_reply(conversation, question, provider, **parameters):
    asked = ask(conversation, question)
    return Message.objects.create(conversation=conversation, role="assistant", provider=provider, model="m",
                                  reply_to=asked, status=ReplyStatus.PENDING, parameters=parameters)


def pairs(request):
    return [(m.role, m.content) for m in request.messages]


DONE = ReplyStatus.COMPLETE


def test_each_provider_sees_its_own_earlier_replies(user):
    conversation = conversation_create(owner=user, system_prompt="Be kind.")
    turn(conversation, "q1", {"a": (DONE, "a1"), "b": (DONE, "b1")})
    reply = pending_reply(conversation, "q2", "b", temperature=0.4, max_tokens=99)
    request = build_chat_request(reply)
    assert pairs(request) == [("user", "q1"), ("assistant", "b1"), ("user", "q2")]
    assert (request.system_prompt, request.temperature, request.max_tokens, request.model) == ("Be kind.", 0.4, 99, "m")


# Issue 13 changed these two: a provider used to be sent the chosen or the first completed reply
# of a turn it had not answered, as if it were its own. Now it sees the user's message alone, once
# it has joined; before that, the reply the user chose (issue 24: its ``history`` is "chosen").
def test_a_turn_the_provider_did_not_answer_gives_it_no_one_elses_reply(user):
    conversation = conversation_create(owner=user)
    turn(conversation, "q1", {"a": (DONE, "a1"), "b": (DONE, "b1")}, chosen="b")
    turn(conversation, "q2", {"a": (DONE, "a2"), "c": (DONE, "c2")})
    turn(conversation, "q3", {"a": (ReplyStatus.ERROR, "half"), "b": (DONE, "b3")}, chosen="b")
    reply = pending_reply(conversation, "q4", "c")
    assert pairs(build_chat_request(reply)) == [
        ("user", "q1"), ("assistant", "b1"),
        ("user", "q2"), ("assistant", "c2"),
        ("user", "q3"),
        ("user", "q4"),
    ]


def test_own_failed_reply_is_not_replaced_by_another_providers(user):
    conversation = conversation_create(owner=user)
    turn(conversation, "q1", {"a": (ReplyStatus.ERROR, "partial"), "b": (DONE, "b1")})
    assert pairs(build_chat_request(pending_reply(conversation, "q2", "a"))) == [("user", "q1"), ("user", "q2")]


def test_chosen_mode_without_a_choice_falls_back_to_the_providers_own_reply_only(user):
    conversation = conversation_create(owner=user, context_mode="chosen")
    turn(conversation, "q1", {"b": (DONE, "b1")})
    turn(conversation, "q2", {"a": (DONE, "a2"), "b": (DONE, "b2")})
    request = build_chat_request(pending_reply(conversation, "q3", "a"))
    assert pairs(request) == [("user", "q1"), ("user", "q2"), ("assistant", "a2"), ("user", "q3")]


def test_a_columns_own_system_prompt_replaces_the_conversations(user):
    conversation = conversation_create(owner=user, system_prompt="Be kind.")
    request = build_chat_request(pending_reply(conversation, "q1", "a", system_prompt="Answer in French."))
    assert request.system_prompt == "Answer in French."
    assert build_chat_request(pending_reply(conversation, "q2", "b")).system_prompt == "Be kind."


def test_chosen_mode_gives_everyone_the_chosen_reply(user):
    conversation = conversation_create(owner=user, context_mode="chosen")
    turn(conversation, "q1", {"a": (DONE, "a1"), "b": (DONE, "b1")}, chosen="b")
    turn(conversation, "q2", {"a": (DONE, "a2"), "b": (DONE, "b2")})
    request = build_chat_request(pending_reply(conversation, "q3", "a"))
    assert pairs(request) == [("user", "q1"), ("assistant", "b1"), ("user", "q2"), ("assistant", "a2"),
                              ("user", "q3")]


def test_a_regenerated_reply_sees_only_the_turns_before_its_question(user):
    conversation = conversation_create(owner=user)
    first, replies = turn(conversation, "q1", {"a": (DONE, "a1")})
    turn(conversation, "q2", {"a": (DONE, "a2")})
    again = Message.objects.create(conversation=conversation, role="assistant", provider="a", model="m",
                                   reply_to=first, status=ReplyStatus.PENDING)
    assert pairs(build_chat_request(again)) == [("user", "q1")]


def test_long_histories_are_trimmed_from_the_oldest_turn(user):
    conversation = conversation_create(owner=user)
    for i in range(10):
        turn(conversation, f"question {i} " + "x" * 400, {"a": (DONE, f"answer {i} " + "y" * 400)})
    reply = pending_reply(conversation, "last", "a", max_tokens=100)
    # Each turn costs about 210 estimated tokens: a 1,000-token budget keeps the newest 4.
    request = build_chat_request(reply, context_tokens=1100)
    kept = [m.content.split()[1] for m in request.messages if m.role == "user" and m.content != "last"]
    assert kept == ["6", "7", "8", "9"]
    assert request.messages[-1].content == "last"
    assert pairs(build_chat_request(reply, context_tokens=100_000))[0][1].startswith("question 0")


def test_a_reply_on_one_branch_reads_no_row_of_another(user):
    conversation = conversation_create(owner=user)
    first, answers = turn(conversation, "first", {"gpt": (ReplyStatus.COMPLETE, "one")})
    left = Message.objects.create(conversation=conversation, role="user", content="left", parent=first)
    Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="m", reply_to=left,
                           status=ReplyStatus.COMPLETE, content="left answer")
    right = Message.objects.create(conversation=conversation, role="user", content="right", parent=first)
    right_answer = Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="m",
                                          reply_to=right, status=ReplyStatus.COMPLETE, content="right answer")
    asked = Message.objects.create(conversation=conversation, role="user", content="then", parent=right)
    reply = Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="m",
                                   reply_to=asked, status=ReplyStatus.STREAMING)
    loaded = []

    def note(sender, instance, **kwargs):
        loaded.append(instance.pk)

    post_init.connect(note, sender=Message)
    try:
        request = build_chat_request(Message.objects.select_related("conversation", "reply_to").get(pk=reply.pk))
    finally:
        post_init.disconnect(note, sender=Message)
    assert [(m.role, m.content) for m in request.messages] == [
        ("user", "first"), ("assistant", "one"), ("user", "right"), ("assistant", "right answer"), ("user", "then")]
    assert right_answer.pk in loaded and left.pk not in loaded
    assert not set(loaded) - {first.pk, answers["gpt"].pk, right.pk, right_answer.pk, asked.pk, reply.pk}
