"""The official `anthropic` SDK as a client of the gateway (ANTHROPIC_BASE_URL style:
base_url http://127.0.0.1:PORT, no /v1)."""

import base64
import json

import anthropic
import pytest

from conftest import ANTHROPIC_KEY, CLIENT_KEY, OPENAI_KEY, OPENAI_MODEL, free_port
from fakes import Reply

MODEL = "claude-sonnet-4-6"
HELLO = [{"role": "user", "content": "Say hello."}]

# A Claude Code–style request: system blocks, a tool with a JSON schema.
SYSTEM = "You are Claude Code, a coding assistant. Answer briefly."
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
}
WEATHER_INPUT = {"city": "Paris", "unit": "celsius"}


def assert_client_key_not_forwarded(rec):
    blob = json.dumps(rec.headers)
    assert CLIENT_KEY not in blob, f"the client's own key reached the upstream: {rec.headers}"


def text_of(content):
    """An OpenAI message `content`: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [])


def test_non_stream_served_by_anthropic_with_configured_key(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic")
    raw = sb.anthropic().messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "anthropic"
    msg = raw.parse()
    assert msg.type == "message" and msg.role == "assistant"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "Hello from fake Anthropic."
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == 21 and msg.usage.output_tokens == 12

    (call,) = fake_anthropic.calls("/v1/messages")
    assert call.headers.get("x-api-key") == ANTHROPIC_KEY
    # The client's API version passes through unchanged.
    assert call.headers.get("anthropic-version") == raw.http_response.request.headers["anthropic-version"]
    assert_client_key_not_forwarded(call)
    assert call.body["model"] == MODEL
    assert call.body["max_tokens"] == 64
    assert call.body["messages"] == HELLO
    assert not call.body.get("stream")
    assert fake_openai.calls("/chat/completions") == []


def test_stream_served_by_anthropic(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic")
    events = []
    with sb.anthropic().messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        assert stream.response.headers.get("x-switchboard-provider") == "anthropic"
        assert stream.response.headers.get("content-type", "").startswith("text/event-stream")
        for ev in stream:
            events.append(ev.type)
        final = stream.get_final_message()
    assert final.content[0].text == "Hello from fake Anthropic."
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 12
    assert events[0] == "message_start" and events[-1] == "message_stop", events
    assert events.count("text") == 4, events  # one per text_delta, none duplicated or lost

    (call,) = fake_anthropic.calls("/v1/messages")
    assert call.body.get("stream") is True
    assert call.headers.get("x-api-key") == ANTHROPIC_KEY
    assert_client_key_not_forwarded(call)
    assert fake_openai.calls("/chat/completions") == []


@pytest.mark.parametrize("preface", [None, "Let me check the weather."], ids=["tool-only", "text-then-tool"])
def test_stream_with_tools_fails_over_to_openai_on_500(switchboard, fake_anthropic, fake_openai, preface):
    """The issue's headline case: fake Anthropic answers 500 api_error; the
    client still gets a valid Anthropic stream, built from the OpenAI fake's
    streamed tool call (alone, or after some text: two content blocks)."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error500"
    fake_openai.reply = Reply.tool("get_weather", WEATHER_INPUT, *([preface] if preface else []))
    events = []
    with sb.anthropic().messages.stream(
        model=MODEL,
        max_tokens=256,
        system=SYSTEM,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
    ) as stream:
        assert stream.response.headers.get("x-switchboard-provider") == "openai"
        for ev in stream:
            events.append(ev.type)
        final = stream.get_final_message()

    assert events[0] == "message_start" and events[-1] == "message_stop", events
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == (["text", "tool_use"] if preface else ["tool_use"]), final.content
    if preface:
        assert final.content[0].text == preface
    tools = [b for b in final.content if b.type == "tool_use"]
    assert len(tools) == 1, final.content
    assert tools[0].name == "get_weather"
    assert tools[0].input == WEATHER_INPUT
    assert tools[0].id, "tool_use block without an id"

    # Anthropic was tried once (with the configured key), then OpenAI.
    (failed,) = fake_anthropic.calls("/v1/messages")
    assert failed.headers.get("x-api-key") == ANTHROPIC_KEY
    (call,) = fake_openai.calls("/chat/completions")
    assert call.headers.get("authorization") == f"Bearer {OPENAI_KEY}"
    assert_client_key_not_forwarded(call)
    body = call.body
    assert body["model"] == OPENAI_MODEL
    assert body.get("stream") is True
    assert (body.get("max_completion_tokens") or body.get("max_tokens")) == 256
    msgs = body["messages"]
    assert msgs[0]["role"] in ("system", "developer"), msgs
    assert text_of(msgs[0]["content"]) == SYSTEM
    assert msgs[1]["role"] == "user" and text_of(msgs[1]["content"]) == "What's the weather in Paris?"
    assert len(msgs) == 2, msgs
    (tool,) = body["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "get_weather"
    assert tool["function"]["description"] == WEATHER_TOOL["description"]
    assert tool["function"]["parameters"] == WEATHER_TOOL["input_schema"]


def test_non_stream_fails_over_to_openai_on_529(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "overloaded529"
    raw = sb.anthropic().messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "openai"
    msg = raw.parse()
    assert msg.type == "message" and msg.role == "assistant"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "Hello from fake OpenAI."
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == 19 and msg.usage.output_tokens == 10
    assert len(fake_anthropic.calls("/v1/messages")) == 1
    (call,) = fake_openai.calls("/chat/completions")
    assert call.body["model"] == OPENAI_MODEL
    assert not call.body.get("stream")


def test_tool_result_turn_is_translated_for_openai(switchboard, fake_anthropic, fake_openai):
    """A multi-turn conversation with a tool_use and its tool_result, rerouted
    to OpenAI: the assistant's tool call and the tool message must line up."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error500"
    fake_openai.reply = Reply.text("It is 18 °C and sunny in Paris.")
    messages = [
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": WEATHER_INPUT},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "18 °C, sunny"}],
        },
    ]
    raw = sb.anthropic().messages.with_raw_response.create(
        model=MODEL, max_tokens=128, system=SYSTEM, tools=[WEATHER_TOOL], messages=messages
    )
    assert raw.headers.get("x-switchboard-provider") == "openai"
    msg = raw.parse()
    assert msg.content[0].text == "It is 18 °C and sunny in Paris."

    (call,) = fake_openai.calls("/chat/completions")
    msgs = call.body["messages"]
    roles = [m["role"] for m in msgs]
    assert roles[0] in ("system", "developer") and roles[1:] == ["user", "assistant", "tool"], msgs
    assistant = msgs[2]
    assert text_of(assistant.get("content")) == "Let me check."
    (tc,) = assistant["tool_calls"]
    assert tc["type"] == "function" and tc["function"]["name"] == "get_weather"
    assert json.loads(tc["function"]["arguments"]) == WEATHER_INPUT
    assert msgs[3]["tool_call_id"] == tc["id"]
    assert "18 °C, sunny" in text_of(msgs[3]["content"])


def test_known_outage_goes_straight_to_fallback(switchboard, fake_anthropic, fake_openai):
    """When the engine already has Anthropic in outage (its probes fail), the
    gateway does not even try it."""
    fake_anthropic.probe_mode = "error500"
    sb = switchboard(preferred="anthropic", check={"interval_secs": 1, "confirm_secs": 1})
    sb.wait_until(lambda: sb.provider("anthropic")["state"] == "outage", "anthropic in outage", timeout=20)
    fake_anthropic.mode = "error500"
    raw = sb.anthropic().messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "openai"
    assert raw.parse().content[0].text == "Hello from fake OpenAI."
    assert fake_anthropic.calls("/v1/messages") == []
    assert len(fake_openai.calls("/chat/completions")) == 1


def test_image_is_translated_for_openai(switchboard, fake_anthropic, fake_openai):
    """An Anthropic base64 image block becomes an OpenAI image_url data URL."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error500"
    png = base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2b1a8e90000000049454e44ae426082"
    )).decode()
    raw = sb.anthropic().messages.with_raw_response.create(
        model=MODEL,
        max_tokens=64,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
                    {"type": "text", "text": "What is in this image?"},
                ],
            }
        ],
    )
    assert raw.headers.get("x-switchboard-provider") == "openai"
    (call,) = fake_openai.calls("/chat/completions")
    (user,) = [m for m in call.body["messages"] if m["role"] == "user"]
    parts = user["content"]
    assert isinstance(parts, list), user
    images = [p for p in parts if p.get("type") == "image_url"]
    assert len(images) == 1, parts
    assert images[0]["image_url"]["url"] == f"data:image/png;base64,{png}"
    assert [p.get("text") for p in parts if p.get("type") == "text"] == ["What is in this image?"]


def test_client_error_is_not_failed_over(switchboard, fake_anthropic, fake_openai):
    """A 400 is the request's fault: the same request would fail anywhere, so
    the client gets Anthropic's own error and OpenAI is never called."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error400"
    with pytest.raises(anthropic.BadRequestError) as caught:
        sb.anthropic().messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    err = caught.value
    assert err.status_code == 400
    assert isinstance(err.body, dict) and err.body.get("error", {}).get("type") == "invalid_request_error", err.body
    assert len(fake_anthropic.calls("/v1/messages")) == 1
    assert fake_openai.calls("/chat/completions") == []


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_every_provider_failing_gives_an_anthropic_error(switchboard, fake_anthropic, fake_openai, stream):
    """Anthropic 500 and OpenAI 500: the client gets an error in its own
    protocol (an Anthropic error body, a 5xx status), after one try each."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error500"
    fake_openai.mode = "error500"
    client = sb.anthropic()
    with pytest.raises(anthropic.APIStatusError) as caught:
        if stream:
            with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as s:
                s.get_final_message()
        else:
            client.messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    err = caught.value
    assert err.status_code >= 500, err
    assert isinstance(err.body, dict) and err.body.get("type") == "error", err.body
    assert isinstance(err.body.get("error"), dict) and err.body["error"].get("type"), err.body
    assert len(fake_anthropic.calls("/v1/messages")) == 1
    assert len(fake_openai.calls("/chat/completions")) == 1


def test_connection_refused_fails_over(switchboard, fake_openai):
    """Nothing listens at Anthropic's base_url: a connection error before any
    byte, so OpenAI serves (streamed, like Claude Code)."""
    sb = switchboard(preferred="anthropic", anthropic_base=f"http://127.0.0.1:{free_port()}")
    with sb.anthropic().messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        assert stream.response.headers.get("x-switchboard-provider") == "openai"
        final = stream.get_final_message()
    assert final.content[0].text == "Hello from fake OpenAI."
    assert len(fake_openai.calls("/chat/completions")) == 1


def test_rate_limit_with_short_retry_after_fails_over(switchboard, fake_anthropic, fake_openai):
    """429 with `retry-after: 2`: waiting would stall the client, another provider is better."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "ratelimit429"
    fake_anthropic.retry_after = 2
    raw = sb.anthropic().messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "openai"
    assert raw.parse().content[0].text == "Hello from fake OpenAI."
    assert len(fake_anthropic.calls("/v1/messages")) == 1


def test_rate_limit_with_long_retry_after_fails_over_too(switchboard, fake_anthropic, fake_openai):
    """429 with `retry-after: 600` (a quota, a usage cap): this account cannot
    be served at Anthropic for a while, OpenAI can."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "ratelimit429"
    fake_anthropic.retry_after = 600
    raw = sb.anthropic().messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "openai"
    assert raw.parse().content[0].text == "Hello from fake OpenAI."


def test_rate_limit_with_nowhere_else_to_go_is_the_answer(switchboard, fake_anthropic, fake_openai):
    """The same 429 with no other provider in the route: the client gets
    Anthropic's 429, and the `retry-after` it backs off by."""
    sb = switchboard(preferred="anthropic", fallback=("anthropic",))
    fake_anthropic.mode = "ratelimit429"
    fake_anthropic.retry_after = 600
    with pytest.raises(anthropic.RateLimitError) as caught:
        sb.anthropic().messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert caught.value.body.get("error", {}).get("type") == "rate_limit_error", caught.value.body
    # The SDK (and Claude Code) back off by this header: it must come through.
    assert caught.value.response.headers.get("retry-after") == "600"
    assert fake_openai.calls("/chat/completions") == []


def test_count_tokens(switchboard, fake_anthropic):
    """Claude Code sizes its context with POST /v1/messages/count_tokens."""
    sb = switchboard(preferred="anthropic")
    raw = sb.anthropic().messages.with_raw_response.count_tokens(model=MODEL, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "anthropic"
    assert raw.parse().input_tokens == 14
    (call,) = fake_anthropic.calls("/v1/messages/count_tokens")
    assert call.headers.get("x-api-key") == ANTHROPIC_KEY
    assert call.body["messages"] == HELLO
