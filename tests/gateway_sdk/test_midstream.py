"""An upstream that dies mid-stream: once bytes reached the client the gateway
must not retry elsewhere (no spliced or duplicated output); the client gets a
proper error in its own protocol instead of a bare connection reset.

The fakes send PARTIAL_TEXT ("The answer", " is") and then cut the connection
with the chunked body unfinished."""

import anthropic
import openai
import pytest

from fakes import PARTIAL_TEXT

HELLO = [{"role": "user", "content": "Say hello."}]


def anthropic_stream_until_error(client):
    received = []
    with pytest.raises(Exception) as caught:
        with client.messages.stream(model="claude-sonnet-4-6", max_tokens=64, messages=HELLO) as stream:
            for text in stream.text_stream:
                received.append(text)
    return received, caught.value


def assert_anthropic_error_event(err):
    # An `event: error` makes the SDK raise APIStatusError; a bare connection
    # drop surfaces as an httpx transport error instead.
    assert isinstance(err, anthropic.APIStatusError), (
        f"expected an Anthropic `error` event (APIStatusError), got {type(err).__module__}.{type(err).__name__}: {err}"
    )
    body = err.body if isinstance(err.body, dict) else {}
    assert body.get("type") == "error" and isinstance(body.get("error"), dict), f"error event body: {err.body!r}"
    assert body["error"].get("type"), body


def test_anthropic_stream_dies_midway(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "die_midstream"
    received, err = anthropic_stream_until_error(sb.anthropic())
    assert_anthropic_error_event(err)
    assert received == PARTIAL_TEXT, f"text before the error was {received!r}"
    assert len(fake_anthropic.calls("/v1/messages")) == 1
    assert fake_openai.calls("/chat/completions") == [], "the gateway retried on OpenAI after bytes were streamed"


def test_translated_stream_dies_midway(switchboard, fake_anthropic, fake_openai):
    """Anthropic client, Anthropic 500 → OpenAI, and the OpenAI stream dies:
    an Anthropic error event, the partial text once, no third attempt."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error500"
    fake_openai.mode = "die_midstream"
    received, err = anthropic_stream_until_error(sb.anthropic())
    assert_anthropic_error_event(err)
    assert received == PARTIAL_TEXT, f"text before the error was {received!r}"
    assert len(fake_anthropic.calls("/v1/messages")) == 1
    assert len(fake_openai.calls("/chat/completions")) == 1


def test_openai_stream_dies_midway(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    fake_openai.mode = "die_midstream"
    received = []
    with pytest.raises(Exception) as caught:
        stream = sb.openai().chat.completions.create(model="gpt-4.1", messages=HELLO, stream=True)
        for chunk in stream:
            for c in chunk.choices:
                if c.delta.content:
                    received.append(c.delta.content)
    err = caught.value
    # An error chunk (`data: {"error": {...}}`) makes the SDK raise APIError
    # itself; APIConnectionError would mean the connection was just dropped.
    assert isinstance(err, openai.APIError) and not isinstance(err, openai.APIConnectionError), (
        f"expected an error chunk (openai.APIError), got {type(err).__module__}.{type(err).__name__}: {err}"
    )
    assert isinstance(err.body, dict) and err.body.get("message"), f"error chunk body: {err.body!r}"
    assert received == PARTIAL_TEXT, f"text before the error was {received!r}"
    assert len(fake_openai.calls("/chat/completions")) == 1
    assert fake_anthropic.calls("/v1/messages") == [], "the gateway retried on Anthropic after bytes were streamed"
