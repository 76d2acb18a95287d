"""The official `openai` SDK as a client of the gateway (OPENAI_BASE_URL style:
base_url http://127.0.0.1:PORT/v1)."""

import json

import openai
import pytest

from conftest import ANTHROPIC_KEY, ANTHROPIC_MODEL, CLIENT_KEY, OPENAI_KEY
from fakes import Reply

MODEL = "gpt-4.1"
HELLO = [{"role": "user", "content": "Say hello."}]
SYSTEM = "You are a helpful assistant. Answer briefly."
WEATHER_FUNCTION = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
WEATHER_INPUT = {"city": "Paris", "unit": "celsius"}


def assert_client_key_not_forwarded(rec):
    assert CLIENT_KEY not in json.dumps(rec.headers), f"the client's own key reached the upstream: {rec.headers}"


def system_text(system):
    """Anthropic `system`: a string or a list of text blocks."""
    if isinstance(system, str):
        return system
    return "".join(b.get("text", "") for b in system or [])


def test_non_stream_served_by_openai(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    raw = sb.openai().chat.completions.with_raw_response.create(model=MODEL, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "openai"
    completion = raw.parse()
    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello from fake OpenAI."
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens == 19 and completion.usage.completion_tokens == 10

    (call,) = fake_openai.calls("/chat/completions")
    assert call.headers.get("authorization") == f"Bearer {OPENAI_KEY}"
    assert_client_key_not_forwarded(call)
    assert call.body["model"] == MODEL
    assert call.body["messages"] == HELLO
    assert fake_anthropic.calls("/v1/messages") == []


def test_stream_served_by_openai(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    raw = sb.openai().chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    assert raw.headers.get("x-switchboard-provider") == "openai"
    assert raw.headers.get("content-type", "").startswith("text/event-stream")
    text, finish, usage = [], None, None
    for chunk in raw.parse():
        assert chunk.object == "chat.completion.chunk"
        for c in chunk.choices:
            if c.delta.content:
                text.append(c.delta.content)
            finish = c.finish_reason or finish
        usage = chunk.usage or usage
    assert "".join(text) == "Hello from fake OpenAI."
    assert text == ["Hello", " from", " fake", " OpenAI."]
    assert finish == "stop"
    assert usage is not None and usage.total_tokens == 29

    (call,) = fake_openai.calls("/chat/completions")
    assert call.body.get("stream") is True
    assert call.headers.get("authorization") == f"Bearer {OPENAI_KEY}"
    assert_client_key_not_forwarded(call)
    assert fake_anthropic.calls("/v1/messages") == []


def test_stream_helper_final_completion(switchboard, fake_openai):
    """The SDK's own accumulator (`chat.completions.stream` + `get_final_completion`)."""
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    with sb.openai().chat.completions.stream(model=MODEL, messages=HELLO) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello from fake OpenAI."
    assert final.choices[0].finish_reason == "stop"


def test_non_stream_translated_to_anthropic(switchboard, fake_anthropic, fake_openai):
    """Preferred = anthropic: an OpenAI request becomes an Anthropic one (system
    lifted out, max_tokens supplied, the provider's model) and the answer
    comes back as a chat.completion."""
    sb = switchboard(preferred="anthropic")
    raw = sb.openai().chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "system", "content": SYSTEM}, *HELLO]
    )
    assert raw.headers.get("x-switchboard-provider") == "anthropic"
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Hello from fake Anthropic."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == 21 and completion.usage.completion_tokens == 12

    (call,) = fake_anthropic.calls("/v1/messages")
    assert call.headers.get("x-api-key") == ANTHROPIC_KEY
    assert call.headers.get("anthropic-version") == "2023-06-01"
    assert_client_key_not_forwarded(call)
    body = call.body
    assert body["model"] == ANTHROPIC_MODEL
    assert system_text(body.get("system")) == SYSTEM
    assert isinstance(body.get("max_tokens"), int) and body["max_tokens"] > 0, "Anthropic requires max_tokens"
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert fake_openai.calls("/chat/completions") == []


def test_stream_tool_call_translated_from_anthropic(switchboard, fake_anthropic, fake_openai):
    """Preferred = anthropic, streamed tool call: Anthropic's input_json_delta
    fragments become OpenAI tool_call chunks whose arguments reassemble."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.reply = Reply.tool("get_weather", WEATHER_INPUT, "Checking.")
    raw = sb.openai().chat.completions.with_raw_response.create(
        model=MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_FUNCTION],
        max_tokens=200,
        stream=True,
    )
    assert raw.headers.get("x-switchboard-provider") == "anthropic"
    text, calls, finish = [], {}, None
    for chunk in raw.parse():
        for c in chunk.choices:
            if c.delta.content:
                text.append(c.delta.content)
            for tc in c.delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                if tc.id:
                    slot["id"] = tc.id
                if tc.function and tc.function.name:
                    slot["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    slot["arguments"] += tc.function.arguments
            finish = c.finish_reason or finish
    assert "".join(text) == "Checking."
    assert list(calls) == [0], calls
    assert calls[0]["id"], "tool call without an id"
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == WEATHER_INPUT
    assert finish == "tool_calls"

    (call,) = fake_anthropic.calls("/v1/messages")
    body = call.body
    assert body["model"] == ANTHROPIC_MODEL
    assert body.get("stream") is True
    assert body["max_tokens"] == 200
    assert system_text(body.get("system")) == SYSTEM
    (tool,) = body["tools"]
    assert tool["name"] == "get_weather"
    assert tool["description"] == WEATHER_FUNCTION["function"]["description"]
    assert tool["input_schema"] == WEATHER_FUNCTION["function"]["parameters"]


def test_openai_preferred_fails_over_to_anthropic(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    fake_openai.mode = "error500"
    raw = sb.openai().chat.completions.with_raw_response.create(model=MODEL, messages=HELLO)
    assert raw.headers.get("x-switchboard-provider") == "anthropic"
    assert raw.parse().choices[0].message.content == "Hello from fake Anthropic."
    assert len(fake_openai.calls("/chat/completions")) == 1
    (call,) = fake_anthropic.calls("/v1/messages")
    assert call.body["model"] == ANTHROPIC_MODEL


def test_tool_messages_translated_to_anthropic(switchboard, fake_anthropic, fake_openai):
    """OpenAI multi-turn with an assistant tool call and its `tool` answer →
    Anthropic tool_use / tool_result blocks that reference each other."""
    sb = switchboard(preferred="anthropic")
    fake_anthropic.reply = Reply.text("It is 18 °C and sunny in Paris.")
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_Xk3Yq9vWbB0d8nP2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": json.dumps(WEATHER_INPUT)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_Xk3Yq9vWbB0d8nP2", "content": "18 °C, sunny"},
    ]
    raw = sb.openai().chat.completions.with_raw_response.create(model=MODEL, messages=messages, tools=[WEATHER_FUNCTION])
    assert raw.headers.get("x-switchboard-provider") == "anthropic"
    assert raw.parse().choices[0].message.content == "It is 18 °C and sunny in Paris."

    (call,) = fake_anthropic.calls("/v1/messages")
    body = call.body
    assert system_text(body.get("system")) == SYSTEM
    msgs = body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"], msgs
    uses = [b for b in msgs[1]["content"] if b.get("type") == "tool_use"]
    assert len(uses) == 1 and uses[0]["name"] == "get_weather" and uses[0]["input"] == WEATHER_INPUT, msgs[1]
    results = [b for b in msgs[2]["content"] if b.get("type") == "tool_result"]
    assert len(results) == 1 and results[0]["tool_use_id"] == uses[0]["id"], msgs[2]
    content = results[0].get("content")
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content or [])
    assert text == "18 °C, sunny"


def test_client_error_is_not_failed_over(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    fake_openai.mode = "error400"
    with pytest.raises(openai.BadRequestError) as caught:
        sb.openai().chat.completions.create(model=MODEL, messages=HELLO)
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_value"
    assert len(fake_openai.calls("/chat/completions")) == 1
    assert fake_anthropic.calls("/v1/messages") == []


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_every_provider_failing_gives_an_openai_error(switchboard, fake_anthropic, fake_openai, stream):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    fake_openai.mode = "error500"
    fake_anthropic.mode = "error500"
    with pytest.raises(openai.APIStatusError) as caught:
        res = sb.openai().chat.completions.create(model=MODEL, messages=HELLO, stream=stream)
        if stream:
            list(res)
    err = caught.value
    assert err.status_code >= 500, err
    # OpenAI's error shape: {"error": {"message", "type", ...}}; the SDK hands over the inner object.
    assert isinstance(err.body, dict) and err.body.get("message") and err.body.get("type"), err.body
    assert len(fake_openai.calls("/chat/completions")) == 1
    assert len(fake_anthropic.calls("/v1/messages")) == 1
