"""The fakes themselves, with the SDKs pointed straight at them (no gateway):
proves they speak each protocol the way the official clients expect, so a
failure elsewhere in this directory is the gateway's, not the fake's."""

import anthropic
import openai
import pytest

from fakes import PARTIAL_TEXT, Reply

WEATHER_INPUT = {"city": "Paris", "unit": "celsius"}


@pytest.fixture
def direct(fakes):
    fa, fo = fakes
    fa.reset()
    fo.reset()
    a = anthropic.Anthropic(base_url=fa.base_url, api_key="k", max_retries=0, timeout=10)
    o = openai.OpenAI(base_url=fo.base_url, api_key="k", max_retries=0, timeout=10)
    return fa, fo, a, o


def test_fake_anthropic(direct):
    fa, _, a, _ = direct
    msg = a.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == "Hello from fake Anthropic."
    with a.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as s:
        assert "".join(s.text_stream) == "Hello from fake Anthropic."
    fa.reply = Reply.tool("get_weather", WEATHER_INPUT, "Checking.")
    with a.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as s:
        final = s.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].input == WEATHER_INPUT
    assert [m.id for m in a.models.list()] == ["claude-sonnet-4-6"]
    fa.mode = "error500"
    with pytest.raises(anthropic.InternalServerError) as e:
        a.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.request_id.startswith("req_")
    fa.mode = "overloaded529"
    with pytest.raises(anthropic.APIStatusError) as e:
        a.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 529
    # A dying stream, read directly: the transport error, after the partial text.
    fa.mode = "die_midstream"
    got = []
    with pytest.raises(Exception):
        with a.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as s:
            for t in s.text_stream:
                got.append(t)
    assert got == PARTIAL_TEXT


def test_fake_openai(direct):
    _, fo, _, o = direct
    c = o.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
    assert c.choices[0].message.content == "Hello from fake OpenAI."
    with o.chat.completions.stream(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}]) as s:
        assert s.get_final_completion().choices[0].message.content == "Hello from fake OpenAI."
    fo.reply = Reply.tool("get_weather", WEATHER_INPUT)
    with o.chat.completions.stream(
        model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], stream_options={"include_usage": True}
    ) as s:
        final = s.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert final.usage.total_tokens == 29
    assert "gpt-4.1" in [m.id for m in o.models.list()]
    fo.mode = "error500"
    with pytest.raises(openai.InternalServerError):
        o.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
    fo.mode = "die_midstream"
    got = []
    with pytest.raises(Exception):
        for ch in o.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], stream=True):
            got.extend(x.delta.content for x in ch.choices if x.delta.content)
    assert got == PARTIAL_TEXT
