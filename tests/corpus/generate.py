#!/usr/bin/env python3
"""Generates the hostile-input corpus that `tests/corpus.rs` replays.

    python3 tests/corpus/generate.py        # rewrites tests/corpus/<parser>/gen-*

Every parser that reads the network or a file gets realistic seeds (the captured
fixtures in tests/fixtures/ where they exist, protocol-faithful samples written here
otherwise) and the same families of damage applied to each seed:

  truncated     cut at a handful of offsets (a connection dropped mid-body)
  utf8          invalid UTF-8 (lone continuation, overlong, surrogate, 0xFF) spliced in
  nul           NUL bytes inside strings and between tokens
  nesting       the body wrapped in 100 000 arrays / objects (recursion limits)
  numbers       every number replaced by giant, negative, float and exponent forms
  dupkeys       every object's first key repeated with a value of another type
  types         each field in turn replaced by null / number / string / array / object
  huge          a string, a line, an array blown up past every documented cap

Files too large to keep in git are written as `*.rep` recipes: a JSON object
{"prefix", "unit", "count", "suffix"} whose strings map code points 0..255 to bytes;
the replay test expands them. The output is deterministic (no randomness), so a
diff of tests/corpus/ after re-running this script shows exactly what changed.
Hand-written cases (regressions from fuzzing) live beside the generated ones with
names not starting with `gen-`; this script never touches them.
"""
import copy
import json
import os
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent
FIX = ROOT.parent / "fixtures"
# Bigger than every cap in the product (1 MiB lines, 1 MiB probe bodies, 4 MiB feeds).
HUGE = 5 * 1024 * 1024
# Cases per seed and family stay small: the whole corpus replays in `make test`.
MAX_TYPE_CASES = 24


def jdump(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode()


def rep(prefix: bytes, unit: bytes, count: int, suffix: bytes) -> bytes:
    return jdump({"prefix": prefix.decode("latin-1"), "unit": unit.decode("latin-1"),
                  "count": count, "suffix": suffix.decode("latin-1")})


def paths(v, prefix=()):
    """Every (path) to a value inside a JSON document, breadth first."""
    out = []
    queue = [(prefix, v)]
    while queue:
        p, x = queue.pop(0)
        if p:
            out.append(p)
        if isinstance(x, dict):
            queue.extend((p + (k,), c) for k, c in x.items())
        elif isinstance(x, list):
            queue.extend((p + (i,), c) for i, c in enumerate(x[:3]))
    return out


def set_at(v, path, new):
    v = copy.deepcopy(v)
    cur = v
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = new
    return v


def replace_numbers(v, n):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return n
    if isinstance(v, dict):
        return {k: replace_numbers(c, n) for k, c in v.items()}
    if isinstance(v, list):
        return [replace_numbers(c, n) for c in v]
    return v


class RawNum:
    """A number literal json.dumps cannot write (1e999999, 2^200)."""


def dump_with_raw(v, raw: str) -> bytes:
    marker = "\u0001RAW\u0001"
    return jdump(replace_numbers(v, marker)).replace(jdump(marker), raw.encode())


def dup_keys(doc: bytes) -> bytes:
    """Repeats the first key of every object with a value of another type."""
    out = bytearray()
    i = 0
    in_str = False
    while i < len(doc):
        c = doc[i:i + 1]
        out += c
        if in_str:
            if c == b"\\":
                out += doc[i + 1:i + 2]
                i += 1
            elif c == b'"':
                in_str = False
        elif c == b'"':
            in_str = True
        elif c == b"{":
            j = doc.find(b'"', i + 1)
            k = doc.find(b'"', j + 1) if j >= 0 else -1
            if j == i + 1 and k > j:
                out += doc[j:k + 1] + b':{"dup":[1,2,3]},'
        i += 1
    return bytes(out)


def json_cases(seed: bytes, parse=True):
    """The damage families for a JSON seed, as (name, bytes)."""
    cases = [("seed", seed)]
    n = len(seed)
    for frac in (0, 1, 2, 5, 10, 33, 50, 90, 99):
        cut = n * frac // 100 if frac else 1
        cases.append((f"truncated-{frac}", seed[:cut]))
    for name, bad in (("lone-continuation", b"\x80"), ("overlong", b"\xc0\xaf"),
                      ("surrogate", b"\xed\xa0\x80"), ("ff", b"\xff\xfe"), ("cut-4byte", b"\xf0\x9f\x98")):
        q = seed.find(b'"', n // 3)
        at = q + 1 if q >= 0 else n // 2
        cases.append((f"utf8-{name}", seed[:at] + bad + seed[at:]))
    q = seed.find(b'"', n // 4)
    at = q + 1 if q >= 0 else 0
    cases.append(("nul-in-string", seed[:at] + b"\x00\x00" + seed[at:]))
    cases.append(("nul-between-tokens", seed.replace(b",", b",\x00", 3)))
    cases.append(("nul-prefix", b"\x00" + seed))
    cases.append(("bom-utf8", b"\xef\xbb\xbf" + seed))
    cases.append(("bom-utf16le", b"\xff\xfe" + seed.decode("utf-8", "replace").encode("utf-16-le")))
    cases.append(("escapes-lone-surrogate", seed.replace(b'"', b'"\\ud800', 1) if q >= 0 else seed))
    cases.append(("trailing-garbage", seed + b"}]\x00garbage"))
    cases.append(("two-documents", seed + b"\n" + seed))
    cases.append(("html-challenge", b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
                  b"<body>cf-challenge</body></html>"))
    cases.append(("empty", b""))
    cases.append(("whitespace", b" \n\t\r "))
    cases.append(("null", b"null"))
    cases.append(("array", b"[]"))
    cases.append(("string", b'"x"'))
    cases.append(("number-giant", b"1" * 5000))
    if not parse:
        return cases
    try:
        v = json.loads(seed)
    except ValueError:
        return cases
    cases.append(("nesting-arrays.rep", rep(b"", b"[", 100_000, b"")))
    cases.append(("nesting-objects.rep", rep(b"", b'{"a":', 100_000, b"")))
    cases.append(("nesting-inside", jdump(set_at(v, paths(v)[0], None)).replace(b"null", b"[" * 3000 + b"]" * 3000, 1)
                  if paths(v) else seed))
    for tag, raw in (("giant-int", "1" + "0" * 400), ("u64-max-plus-one", "18446744073709551616"),
                     ("i64-min-minus-one", "-9223372036854775809"), ("exp-overflow", "1e999999"),
                     ("exp-underflow", "1e-999999"), ("neg-zero", "-0"), ("float", "0.5"),
                     ("u32-max", "4294967295"), ("negative", "-1")):
        cases.append((f"numbers-{tag}", dump_with_raw(v, raw)))
    cases.append(("dupkeys", dup_keys(seed)))
    for i, p in enumerate(paths(v)[:MAX_TYPE_CASES]):
        for tname, new in (("null", None), ("number", 7), ("string", "x"), ("array", [1]),
                           ("object", {"k": "v"}), ("bool", True)):
            cases.append((f"types-{i:02}-{tname}", jdump(set_at(v, p, new))))
    # One huge string in the first string field, past every cap.
    first_str = next((p for p in paths(v) if isinstance(get_at(v, p), str)), None)
    if first_str is not None:
        marker = "\u0002HUGE\u0002"
        doc = jdump(set_at(v, first_str, marker))
        pre, post = doc.split(jdump(marker), 1)
        cases.append(("huge-string.rep", rep(pre + b'"', b"A", HUGE, b'"' + post)))
        cases.append(("huge-escapes.rep", rep(pre + b'"', b"\\u001b[31m", HUGE // 10, b'"' + post)))
    cases.append(("huge-array.rep", rep(b"[", b"{},", 1_000_000, b"{}]")))
    return cases


def get_at(v, p):
    for k in p:
        v = v[k]
    return v


def write(parser: str, name: str, data: bytes):
    d = ROOT / parser
    d.mkdir(parents=True, exist_ok=True)
    (d / f"gen-{name}").write_bytes(data)


def emit_json(parser: str, seeds: dict):
    for sname, seed in seeds.items():
        for cname, data in json_cases(seed):
            ext = "" if cname.endswith(".rep") else ".bin"
            write(parser, f"{sname}-{cname}{ext}", data)


# ---------------------------------------------------------------------------
# Seeds.

def fixture(name):
    return (FIX / name).read_bytes()


STATUS = {
    "statuspage": {"degraded": fixture("status/claude_api_degraded.json"),
                   "outage": fixture("status/claude_claude_ai_outage.json")},
    "incidentio": {"shim": fixture("status/openai_shim_incident.json"),
                   "widget": fixture("status/openai_widget_incident.json")},
    "google-cloud": {"open": fixture("status/google_incidents_open.json")},
    "aws-health": {"events": fixture("status/aws_currentevents.json")},
}

ERROR_BODIES = {
    "anthropic-500": jdump({"type": "error", "error": {"type": "api_error", "message": "Internal server error"},
                            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}),
    "anthropic-529": jdump({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    "openai-429": jdump({"error": {"message": "You exceeded your current quota, please check your plan.",
                                   "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}),
    "gemini-400": jdump({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                   "status": "INVALID_ARGUMENT", "details": [
                                       {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                        "reason": "API_KEY_INVALID", "domain": "googleapis.com"},
                                       {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}}),
    "bedrock-throttle": jdump({"message": "Too many requests, please wait before trying again."}),
    "vertex-list": jdump([{"error": {"code": 503, "message": "The service is currently unavailable.",
                                     "status": "UNAVAILABLE"}}]),
}
HTML_ERRORS = {
    "nginx-502": b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
                 b"</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
    "title-escapes": b"<html><head><title>\x1b[2J\x1b]0;pwned\x07 Error\r\nforged: line</title></head></html>",
    "unclosed-title": b"<html><head><title>" + b"x" * 70000,
    "many-titles": b"<title></title>" * 20000,
}

ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": True,
    "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "List the files."},
                                     {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                  "data": "iVBORw0KGgo="}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Running ls."},
                                          {"type": "tool_use", "id": "toolu_01A", "name": "Bash",
                                           "input": {"command": "ls"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A",
                                      "content": [{"type": "text", "text": "Cargo.toml\nsrc"}]}]},
    ],
    "tools": [{"name": "Bash", "description": "Run a command",
               "input_schema": {"type": "object", "properties": {"command": {"type": "string"}},
                                "required": ["command"]}}],
    "tool_choice": {"type": "auto"}, "temperature": 0.7, "top_p": 0.9, "stop_sequences": ["\n\nHuman:"],
    "metadata": {"user_id": "user_abc"}, "thinking": {"type": "enabled", "budget_tokens": 2048},
}
OPENAI_REQUEST = {
    "model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True}, "max_completion_tokens": 512,
    "messages": [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": [{"type": "text", "text": "What is in this image?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": "auto", "temperature": 1.5, "n": 1, "stop": ["END"], "user": "u1", "parallel_tool_calls": False,
}
RESPONSES_REQUEST = {
    "model": "gpt-5-codex", "instructions": "You are Codex.", "stream": True, "store": False,
    "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix the bug"}]},
        {"type": "function_call", "call_id": "call_9", "name": "shell", "arguments": "{\"command\":[\"ls\"]}"},
        {"type": "function_call_output", "call_id": "call_9", "output": "Cargo.toml"},
        {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA"},
    ],
    "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {}}},
              {"type": "web_search"}],
    "tool_choice": "auto", "parallel_tool_calls": False, "reasoning": {"effort": "medium"},
    "include": ["reasoning.encrypted_content"], "max_output_tokens": 1000,
}
ANTHROPIC_RESPONSE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
    "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Hello"},
                {"type": "tool_use", "id": "toolu_01A", "name": "Bash", "input": {"command": "ls"}}],
    "stop_reason": "tool_use", "stop_sequence": None,
    "usage": {"input_tokens": 25, "output_tokens": 12, "cache_read_input_tokens": 3,
              "cache_creation_input_tokens": 0},
}
OPENAI_RESPONSE = {
    "id": "chatcmpl-abc", "object": "chat.completion", "created": 1733550000, "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello", "refusal": None,
                                         "tool_calls": [{"id": "call_1", "type": "function",
                                                         "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                 "finish_reason": "tool_calls", "logprobs": None}],
    "usage": {"prompt_tokens": 25, "completion_tokens": 12, "total_tokens": 37,
              "prompt_tokens_details": {"cached_tokens": 3}},
}


def sse(events):
    out = b""
    for name, data in events:
        if name:
            out += b"event: " + name.encode() + b"\n"
        out += b"data: " + (data if isinstance(data, bytes) else jdump(data)) + b"\n\n"
    return out


ANTHROPIC_STREAM = sse([
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_01X", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo é😀"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_01A", "name": "Bash", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": "{\"comm"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": "and\":\"ls\"}"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                       "usage": {"output_tokens": 15}}),
    ("message_stop", {"type": "message_stop"}),
])
ANTHROPIC_STREAM_ERROR = sse([
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_01X", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
    ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
])


def chunk(delta, finish=None, usage=None, index=0):
    c = {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1733550000, "model": "gpt-4o",
         "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}
    if usage:
        c["usage"] = usage
    return c


OPENAI_STREAM = sse([
    (None, chunk({"role": "assistant", "content": ""})),
    (None, chunk({"content": "Hel"})),
    (None, chunk({"content": "lo é😀"})),
    (None, chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                  "function": {"name": "get_weather", "arguments": ""}}]})),
    (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})),
    (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]})),
    (None, chunk({}, "tool_calls")),
    (None, {"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1733550000, "model": "gpt-4o",
            "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}}),
    (None, b"[DONE]"),
])


def sse_cases(name, stream: bytes):
    cases = [("seed", stream), ("crlf", stream.replace(b"\n", b"\r\n")), ("cr", stream.replace(b"\n", b"\r")),
             ("no-space", stream.replace(b"data: ", b"data:")), ("bom", b"\xef\xbb\xbf" + stream),
             ("comments", stream.replace(b"\n\n", b"\n: keep-alive\n\n")),
             ("retry-id", b"retry: 99999999999999999999\nid: \x00x\n" + stream),
             ("multi-data", stream.replace(b"data: {", b"data: \ndata: {")),
             ("no-final-blank", stream.rstrip(b"\n")),
             ("nul", stream.replace(b"data: ", b"data: \x00", 2)),
             ("invalid-utf8", stream.replace(b"Hel", b"H\xff\xc3l")),
             ("cut-in-utf8", stream[:stream.find("😀".encode()) + 2]),
             ("garbage-data", b"data: {not json\n\ndata: \x80\x81\n\n" + stream),
             ("event-only", b"event: message_start\n\nevent: \n\n" * 50),
             ("unknown-events", stream.replace(b"event: ping", b"event: \x1b[31mmystery")),
             ("doubled", stream + stream),
             ("reordered", b"".join(reversed(stream.split(b"\n\n"))))]
    for frac in (5, 25, 50, 75, 95):
        cases.append((f"truncated-{frac}", stream[:len(stream) * frac // 100]))
    # Each event's JSON damaged in turn by the JSON families (a few per event).
    for i, ev in enumerate(stream.split(b"\n\n")):
        lines = ev.split(b"\n")
        data = [l for l in lines if l.startswith(b"data: ")]
        if not data or data[0] == b"data: [DONE]":
            continue
        body = data[0][len(b"data: "):]
        for cname, bad in json_cases(body):
            if cname.endswith(".rep") or cname.startswith("types-") and not cname.endswith(("-null", "-string")):
                continue
            if b"\n" in bad or b"\r" in bad:
                continue
            mutated = stream.replace(data[0], b"data: " + bad, 1)
            cases.append((f"event{i:02}-{cname}", mutated))
    cases.append(("huge-line.rep", rep(b"data: ", b"A", HUGE, b"\n\n")))
    cases.append(("huge-event.rep", rep(b"", b"data: " + b"A" * 1000 + b"\n", HUGE // 1000, b"\n")))
    cases.append(("many-tiny-events.rep", rep(b"", b"data: {}\n\n", 200_000, b"")))
    cases.append(("huge-blank-lines.rep", rep(b"", b"\n", HUGE, b"")))
    cases.append(("tool-index-u32-max", stream.replace(b'"index":0,"id":"call_1"', b'"index":4294967295,"id":"call_1"')
                  .replace(b'"index":0,"function"', b'"index":4294967295,"function"') + sse([
                      (None, chunk({"tool_calls": [{"index": 0, "id": "call_2", "type": "function",
                                                    "function": {"name": "g", "arguments": "{}"}}]}))])))
    cases.append(("block-index-u64-max", stream.replace(b'"index":1', b'"index":18446744073709551615')))
    for cname, data in cases:
        ext = "" if cname.endswith(".rep") else ".sse"
        write(name, f"{cname}{ext}", data)


CONFIG = b'''use_catalog = true
preferred = "anthropic"
fallback = ["anthropic", "openai", "ollama"]
auto_switch = false

[check]
interval_secs = 60
confirm_secs = 10
timeout_secs = 30
slow_ms = 8000
failures_to_open = 2
successes_to_close = 2

[notifications]
enabled = true
degraded = false

[server]
listen = "127.0.0.1:7461"

[gateway]
enabled = true
listen = "127.0.0.1:7462"

[inference]
enabled = false
interval_secs = 60
monthly_budget_usd = 1.0

[passive]
claude_code = false
codex = false

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "https://api.anthropic.com"
status_page = "https://status.claude.com"
status_format = "statuspage"
components = ["Claude API"]
api_key_env = "ANTHROPIC_API_KEY"
model = "claude-sonnet-4-5"
models = ["claude-sonnet-4-5", "claude-haiku-4-5"]
enabled = true

[[providers]]
id = "local"
kind = "openai-compatible"
name = "llama.cpp"
base_url = "http://127.0.0.1:8080/v1"
'''


def config_cases():
    lines = CONFIG.split(b"\n")
    cases = [("seed", CONFIG), ("empty", b""), ("bom", b"\xef\xbb\xbf" + CONFIG)]
    for frac in (10, 33, 50, 66, 90):
        cases.append((f"truncated-{frac}", CONFIG[:len(CONFIG) * frac // 100]))
    for i, line in enumerate(lines):
        if b" = " not in line:
            continue
        key, _ = line.split(b" = ", 1)
        for tname, val in (("giant-int", b"9" * 400), ("i64-max", b"9223372036854775807"),
                           ("i64-min", b"-9223372036854775808"), ("negative", b"-1"), ("zero", b"0"),
                           ("nan", b"nan"), ("inf", b"inf"), ("float", b"1e308"), ("string", b'"x"'),
                           ("control-string", b'"\\u001b[2J\\u0000"'), ("array", b"[1, [2, [3]]]"),
                           ("table", b"{ a = 1 }"), ("bool", b"true"), ("date", b"1979-05-27T07:32:00Z"),
                           ("bad-url", b'"http://[::1"'), ("unterminated", b'"abc')):
            cases.append((f"line{i:02}-{tname}", b"\n".join(lines[:i] + [key + b" = " + val] + lines[i + 1:])))
        cases.append((f"line{i:02}-duplicate", b"\n".join(lines[:i + 1] + [line] + lines[i + 1:])))
        cases.append((f"line{i:02}-nul", b"\n".join(lines[:i] + [line + b"\x00"] + lines[i + 1:])))
        cases.append((f"line{i:02}-invalid-utf8", b"\n".join(lines[:i] + [line.replace(b'"', b'"\xff', 1)] + lines[i + 1:])))
    cases.append(("nested-arrays", b"fallback = " + b"[" * 5000 + b"]" * 5000))
    cases.append(("nested-inline-tables", b"x = " + b"{a=" * 5000 + b"1" + b"}" * 5000))
    cases.append(("nested-arrays-deep.rep", rep(b"fallback = ", b"[", 1_000_000, b"")))
    cases.append(("dotted-keys-deep", b".".join([b"a"] * 20000) + b" = 1"))
    cases.append(("table-headers-dup", b"[check]\n[check]\n"))
    cases.append(("many-providers.rep", rep(b"", b'[[providers]]\nid = "p"\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:1/v1"\n', 20000, b"")))
    cases.append(("huge-string.rep", rep(b'preferred = "', b"A", HUGE, b'"\n')))
    cases.append(("huge-comment.rep", rep(b"# ", b"x", HUGE, b"\n")))
    cases.append(("huge-key.rep", rep(b"", b"k", HUGE, b" = 1\n")))
    for cname, data in cases:
        ext = "" if cname.endswith(".rep") else ".toml"
        write("config-toml", f"{cname}{ext}", data)


def passive_lines(path: pathlib.Path, want: bytes):
    lines = [l for l in path.read_bytes().split(b"\n") if want in l]
    return lines[:1]


def main():
    for d in ROOT.iterdir():
        if d.is_dir():
            for f in d.glob("gen-*"):
                f.unlink()
    for fmt, seeds in STATUS.items():
        emit_json(f"status-{fmt}", seeds)
    emit_json("probe-error-body", ERROR_BODIES)
    for name, body in HTML_ERRORS.items():
        write("probe-error-body", f"{name}.html", body)
    write("probe-error-body", "huge-html-title.rep", rep(b"<html><title>", b"\x1b[1m", HUGE, b"</title>"))
    write("probe-error-body", "huge-plain.rep", rep(b"", b"upstream connect error ", HUGE // 20, b""))
    emit_json("gateway-anthropic-request", {"messages": jdump(ANTHROPIC_REQUEST)})
    emit_json("gateway-openai-request", {"chat": jdump(OPENAI_REQUEST)})
    emit_json("gateway-responses-request", {"responses": jdump(RESPONSES_REQUEST)})
    emit_json("upstream-anthropic-response", {"message": jdump(ANTHROPIC_RESPONSE),
                                               "error": ERROR_BODIES["anthropic-500"]})
    emit_json("upstream-openai-response", {"completion": jdump(OPENAI_RESPONSE),
                                            "error": ERROR_BODIES["openai-429"]})
    sse_cases("sse-anthropic", ANTHROPIC_STREAM)
    write("sse-anthropic", "gen-error-event.sse", ANTHROPIC_STREAM_ERROR)
    sse_cases("sse-openai", OPENAI_STREAM)
    config_cases()
    cc = {}
    for f in sorted((FIX / "passive/claude-code").glob("*.jsonl")):
        for j, line in enumerate(passive_lines(f, b'"isApiErrorMessage":true')):
            cc[f"{f.stem}-{j}"] = line
    emit_json("passive-claude-code", dict(list(cc.items())[:3]))
    cx = {}
    for f in sorted((FIX / "passive/codex").glob("*.jsonl")):
        for j, line in enumerate(passive_lines(f, b'"codex_error_info"')):
            cx[f"{f.stem}-{j}"] = line
    emit_json("passive-codex", dict(list(cx.items())[:3]))
    for d in ("passive-claude-code", "passive-codex"):
        write(d, "huge-line.rep", rep(b'{"type":"assistant","message":{"model":"', b"m", HUGE, b'"}}'))
    # Bedrock event-stream frames: length fields that lie, CRCs that fail, huge declared sizes.
    be = "bedrock-eventstream"
    write(be, "empty.bin", b"")
    write(be, "zero-prelude.bin", b"\x00" * 12)
    write(be, "total-len-max.bin", b"\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00")
    write(be, "headers-longer-than-frame.bin", b"\x00\x00\x00\x10\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00")
    write(be, "total-len-below-prelude.bin", b"\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00")
    write(be, "garbage.bin", bytes(range(256)) * 8)
    print("corpus:", {d.name: len(list(d.iterdir())) for d in sorted(ROOT.iterdir()) if d.is_dir()})


if __name__ == "__main__":
    main()
