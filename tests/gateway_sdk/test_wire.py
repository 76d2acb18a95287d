"""The gateway's streams on the wire, read without an SDK: the SDKs are
lenient (they skip what they do not know), other clients such as Claude Code
are not. A translated stream must follow the provider's own grammar."""

import json
import urllib.request

import pytest

from fakes import Reply

WEATHER_INPUT = {"city": "Paris", "unit": "celsius"}


def post(url, body, headers):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=20) as res:
        return res.status, {k.lower(): v for k, v in res.headers.items()}, res.read().decode()


def sse_events(text):
    """(event name or None, data) per SSE event; comments dropped."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith(":") or not line:
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if name is not None or data:
            out.append((name, "\n".join(data)))
    return out


def check_anthropic_grammar(events):
    """message_start (content_block_start delta* stop)* message_delta message_stop,
    pings anywhere, every `event:` equal to its data's type, indices 0, 1, …"""
    parsed = []
    for name, data in events:
        assert name is not None, f"event without an `event:` line: {data!r}"
        obj = json.loads(data)
        assert obj.get("type") == name, f"event {name!r} carries type {obj.get('type')!r}"
        if name != "ping":
            parsed.append(obj)
    types = [o["type"] for o in parsed]
    assert types[0] == "message_start", types
    assert types[-2:] == ["message_delta", "message_stop"], types
    open_index, next_index = None, 0
    blocks = []
    for o in parsed[1:-2]:
        if o["type"] == "content_block_start":
            assert open_index is None, f"block {o['index']} opened inside block {open_index}"
            assert o["index"] == next_index, f"block index {o['index']}, expected {next_index}"
            open_index = o["index"]
            blocks.append({"block": o["content_block"], "deltas": []})
        elif o["type"] == "content_block_delta":
            assert o["index"] == open_index, f"delta for block {o['index']} while {open_index} is open"
            blocks[-1]["deltas"].append(o["delta"])
        elif o["type"] == "content_block_stop":
            assert o["index"] == open_index, o
            open_index, next_index = None, next_index + 1
        else:
            raise AssertionError(f"unexpected event {o['type']} inside the message: {types}")
    assert open_index is None, "a content block was never stopped"
    msg = parsed[0]["message"]
    assert msg["type"] == "message" and msg["role"] == "assistant" and msg["content"] == [], msg
    assert isinstance(msg.get("id"), str) and msg["id"], msg
    assert isinstance(msg.get("usage", {}).get("input_tokens"), int), msg
    assert isinstance(parsed[-2].get("usage", {}).get("output_tokens"), int), parsed[-2]
    return parsed, blocks


@pytest.mark.parametrize("preface", [None, "Let me check."], ids=["tool-only", "text-then-tool"])
def test_translated_anthropic_stream_follows_the_grammar(switchboard, fake_anthropic, fake_openai, preface):
    sb = switchboard(preferred="anthropic")
    fake_anthropic.mode = "error500"
    fake_openai.reply = Reply.tool("get_weather", WEATHER_INPUT, *([preface] if preface else []))
    status, headers, text = post(
        sb.gateway + "/v1/messages",
        {
            "model": "claude-sonnet-4-6",
            "max_tokens": 100,
            "stream": True,
            "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
        },
        {"x-api-key": "dummy", "anthropic-version": "2023-06-01"},
    )
    assert status == 200
    assert headers.get("content-type", "").startswith("text/event-stream")
    assert headers.get("x-switchboard-provider") == "openai"
    parsed, blocks = check_anthropic_grammar(sse_events(text))
    kinds = [b["block"]["type"] for b in blocks]
    assert kinds == (["text", "tool_use"] if preface else ["tool_use"]), kinds
    if preface:
        assert all(d["type"] == "text_delta" for d in blocks[0]["deltas"])
        assert "".join(d["text"] for d in blocks[0]["deltas"]) == preface
    tool = blocks[-1]
    assert tool["block"]["name"] == "get_weather" and tool["block"]["id"]
    assert tool["block"].get("input") == {}, "tool_use starts with an empty input, filled by input_json_delta"
    assert all(d["type"] == "input_json_delta" for d in tool["deltas"])
    assert json.loads("".join(d["partial_json"] for d in tool["deltas"])) == WEATHER_INPUT
    assert parsed[-2]["delta"]["stop_reason"] == "tool_use"


def test_passthrough_anthropic_stream_is_unchanged(switchboard, fake_anthropic):
    """Same protocol, healthy provider: the events arrive as the upstream sent them."""
    sb = switchboard(preferred="anthropic")
    status, headers, text = post(
        sb.gateway + "/v1/messages",
        {"model": "claude-sonnet-4-6", "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": "Hi"}]},
        {"x-api-key": "dummy", "anthropic-version": "2023-06-01"},
    )
    assert status == 200 and headers.get("x-switchboard-provider") == "anthropic"
    events = sse_events(text)
    check_anthropic_grammar(events)
    names = [n for n, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ], names


def test_translated_openai_stream_follows_the_grammar(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic")
    fake_anthropic.reply = Reply.tool("get_weather", WEATHER_INPUT, "Checking.")
    status, headers, text = post(
        sb.gateway + "/v1/chat/completions",
        {
            "model": "gpt-4.1",
            "stream": True,
            "stream_options": {"include_usage": True},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
        },
        {"authorization": "Bearer dummy"},
    )
    assert status == 200 and headers.get("x-switchboard-provider") == "anthropic"
    events = sse_events(text)
    assert events[-1] == (None, "[DONE]"), events[-3:]
    chunks = [json.loads(d) for n, d in events[:-1]]
    assert all(n is None for n, _ in events), "OpenAI streams carry no `event:` lines"
    assert len({c["id"] for c in chunks}) == 1, "one id for every chunk of a completion"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[0]["choices"][0]["delta"].get("role") == "assistant"
    finishes = [c["choices"][0]["finish_reason"] for c in with_choices if c["choices"][0].get("finish_reason")]
    assert finishes == ["tool_calls"], finishes
    calls = [tc for c in with_choices for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert calls and calls[0].get("id") and calls[0]["function"]["name"] == "get_weather", calls
    assert all(tc["index"] == 0 for tc in calls)
    assert json.loads("".join(tc["function"].get("arguments", "") for tc in calls)) == WEATHER_INPUT
    # include_usage: one last chunk with empty choices and the usage.
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 21, chunks[-1]
