"""Fake Anthropic and OpenAI APIs on 127.0.0.1 for the gateway SDK tests.

Each fake is a real HTTP/1.1 server (a thread per connection) that answers the
way the provider does: the same JSON shapes, the same headers (`request-id` /
`x-request-id`, `content-type`), and streams sent with chunked transfer
encoding exactly as the real APIs send them:

- Anthropic: named events (`message_start`, `content_block_start`, `ping`,
  `content_block_delta` with `text_delta` / `input_json_delta`,
  `content_block_stop`, `message_delta`, `message_stop`), `event:` + `data:`.
- OpenAI: `data: {chat.completion.chunk}` lines, tool-call arguments in
  fragments, an optional usage chunk (`stream_options.include_usage`), then
  `data: [DONE]`.

A test controls a fake through its attributes:

    fake.mode   "ok" | "error500" | "overloaded529" | "error400" | "ratelimit429" | "die_midstream"
                (ratelimit429 sends `retry-after: fake.retry_after`)
                (applies to the completion endpoint; the probe follows
                `fake.probe_mode`, "ok" or "error500")
    fake.reply  Reply.text(...) or Reply.tool(...), or a function of the request body
                that returns one (scripted conversations: a tool call, then text)

and reads what it received from `fake.requests` (method, path, lower-cased
headers, parsed JSON body).

Only the Python standard library.
"""

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# What the mid-stream death sends before the connection drops.
PARTIAL_TEXT = ["The answer", " is"]


@dataclass
class Reply:
    """What a fake answers: text in chunks, or one tool call (optionally after some text)."""

    chunks: list = field(default_factory=list)
    tool_name: str = None
    tool_input: dict = None

    @staticmethod
    def text(*chunks):
        return Reply(chunks=list(chunks))

    @staticmethod
    def tool(name, tool_input, *preface):
        return Reply(chunks=list(preface), tool_name=name, tool_input=tool_input)

    @property
    def full_text(self):
        return "".join(self.chunks)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: object


def _id(prefix, n=24):
    return prefix + uuid.uuid4().hex[:n]


def json_fragments(value, pieces=4):
    """The JSON text of `value` cut into `pieces` fragments, as providers stream tool arguments."""
    text = json.dumps(value, separators=(",", ":"))
    step = max(1, -(-len(text) // pieces))
    return [text[i : i + step] for i in range(0, len(text), step)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake"
    sys_version = ""

    def log_message(self, *args):
        pass

    # ---- plumbing -----------------------------------------------------------

    def _read_body(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _record(self, body):
        fake = self.server.fake
        rec = Recorded(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        with fake.lock:
            fake.requests.append(rec)
        return rec

    def send_json(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_stream(self, headers=()):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self):
        """Cuts the connection with the chunked body unfinished, like a dying upstream."""
        time.sleep(0.2)  # let what was sent reach the client first
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def not_found(self):
        self.send_json(404, {"error": "not found"})

    # ---- dispatch -----------------------------------------------------------

    def do_GET(self):
        self._record(None)
        self.server.fake.on_get(self)

    def do_POST(self):
        body = self._read_body()
        self._record(body)
        self.server.fake.on_post(self, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Fake:
    """Common state of both fakes; subclasses answer the requests."""

    name = "fake"

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.reset()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=self.name, daemon=True)
        self.thread.start()

    def reset(self):
        self.reset_requests()
        self.mode = "ok"
        self.probe_mode = "ok"
        self.retry_after = 2
        self.reply = self.default_reply()

    def reset_requests(self):
        with self.lock:
            self.requests = []

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def calls(self, path_suffix):
        """The recorded POSTs whose path ends with `path_suffix` (the completion calls)."""
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0].endswith(path_suffix)]

    def default_reply(self):
        raise NotImplementedError


class FakeAnthropic(Fake):
    """The Anthropic Messages API: base_url http://127.0.0.1:PORT (no /v1)."""

    name = "fake-anthropic"
    MODEL_ID = "claude-sonnet-4-6"

    def default_reply(self):
        return Reply.text("Hello", " from", " fake", " Anthropic.")

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def _headers(self):
        return [
            ("request-id", _id("req_011CV")),
            ("anthropic-organization-id", "00000000-0000-4000-8000-000000000000"),
            ("via", "1.1 google"),
        ]

    def on_get(self, h):
        path = h.path.split("?")[0]
        if path != "/v1/models":
            return h.not_found()
        if self.probe_mode != "ok":
            return self._error(h, 500)
        model = {
            "type": "model",
            "id": self.MODEL_ID,
            "display_name": "Claude Sonnet 4.6",
            "created_at": "2026-02-17T00:00:00Z",
        }
        h.send_json(
            200,
            {"data": [model], "has_more": False, "first_id": model["id"], "last_id": model["id"]},
            self._headers(),
        )

    def _error(self, h, status):
        rid = _id("req_011CV")
        if status == 529:
            err = {"type": "overloaded_error", "message": "Overloaded"}
        elif status == 400:
            err = {"type": "invalid_request_error", "message": "messages.0.content: Input should be a valid list"}
        elif status == 429:
            err = {
                "type": "rate_limit_error",
                "message": "This request would exceed the rate limit for your organization of 50 requests per minute.",
            }
        else:
            err = {"type": "api_error", "message": "Internal server error"}
        headers = [("request-id", rid), ("x-should-retry", "false" if status == 400 else "true")]
        if status == 429:
            headers += [
                ("retry-after", str(self.retry_after)),
                ("anthropic-ratelimit-requests-limit", "50"),
                ("anthropic-ratelimit-requests-remaining", "0"),
            ]
        h.send_json(status, {"type": "error", "error": err, "request_id": rid}, headers)

    def on_post(self, h, body):
        path = h.path.split("?")[0]
        if path == "/v1/messages/count_tokens":
            return h.send_json(200, {"input_tokens": 14}, self._headers())
        if path != "/v1/messages":
            return h.not_found()
        if self.mode == "error500":
            return self._error(h, 500)
        if self.mode == "overloaded529":
            return self._error(h, 529)
        if self.mode == "error400":
            return self._error(h, 400)
        if self.mode == "ratelimit429":
            return self._error(h, 429)
        body = body if isinstance(body, dict) else {}
        model = body.get("model") or self.MODEL_ID
        reply = self.reply(body) if callable(self.reply) else self.reply
        if body.get("stream"):
            return self._stream(h, model, reply, die=self.mode == "die_midstream")
        content = []
        if reply.chunks:
            content.append({"type": "text", "text": reply.full_text})
        if reply.tool_name:
            content.append(
                {"type": "tool_use", "id": _id("toolu_01"), "name": reply.tool_name, "input": reply.tool_input}
            )
        msg = {
            "id": _id("msg_01"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if reply.tool_name else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 21,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 12,
                "service_tier": "standard",
            },
        }
        h.send_json(200, msg, self._headers())

    def _stream(self, h, model, reply, die):
        h.start_stream(self._headers())

        def event(name, data):
            h.chunk(f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n")

        event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": _id("msg_01"),
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 21,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                        "service_tier": "standard",
                    },
                },
            },
        )
        chunks = PARTIAL_TEXT if die else reply.chunks
        index = 0
        if chunks:
            event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            event("ping", {"type": "ping"})
            for c in chunks:
                event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": c}})
            if die:
                return h.drop()
            event("content_block_stop", {"type": "content_block_stop", "index": 0})
            index = 1
        if reply.tool_name:
            event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "tool_use", "id": _id("toolu_01"), "name": reply.tool_name, "input": {}},
                },
            )
            event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": ""}},
            )
            for frag in json_fragments(reply.tool_input):
                event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": frag}},
                )
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use" if reply.tool_name else "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 12},
            },
        )
        event("message_stop", {"type": "message_stop"})
        h.end_stream()


class FakeOpenAI(Fake):
    """The OpenAI Chat Completions API: base_url http://127.0.0.1:PORT/v1."""

    name = "fake-openai"
    MODEL_SNAPSHOT = "gpt-4.1-2025-04-14"

    def default_reply(self):
        return Reply.text("Hello", " from", " fake", " OpenAI.")

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def _headers(self):
        return [
            ("x-request-id", _id("req_", 32)),
            ("openai-organization", "user-fake"),
            ("openai-processing-ms", "42"),
            ("openai-version", "2020-10-01"),
        ]

    def on_get(self, h):
        path = h.path.split("?")[0]
        if path != "/v1/models":
            return h.not_found()
        if self.probe_mode != "ok":
            return self._error(h, 500)
        h.send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": "gpt-4.1", "object": "model", "created": 1744316542, "owned_by": "system"},
                    {"id": self.MODEL_SNAPSHOT, "object": "model", "created": 1744315746, "owned_by": "system"},
                ],
            },
            self._headers(),
        )

    def _error(self, h, status):
        if status == 400:
            err = {
                "message": "Invalid value for 'messages[0].role': 'bogus'.",
                "type": "invalid_request_error",
                "param": "messages[0].role",
                "code": "invalid_value",
            }
        else:
            err = {
                "message": "The server had an error while processing your request. Sorry about that!",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        h.send_json(status, {"error": err}, self._headers())

    def on_post(self, h, body):
        path = h.path.split("?")[0]
        if path not in ("/v1/chat/completions", "/v1/responses"):
            return h.not_found()
        # A failing OpenAI fails on both APIs (the gateway sends Responses
        # requests to OpenAI as they are); a healthy one only fakes Chat Completions.
        if self.mode in ("error500", "overloaded529", "error400"):
            return self._error(h, {"error500": 500, "overloaded529": 503, "error400": 400}[self.mode])
        if path != "/v1/chat/completions":
            return h.not_found()
        body = body if isinstance(body, dict) else {}
        reply = self.reply(body) if callable(self.reply) else self.reply
        cid = _id("chatcmpl-", 29)
        created = int(time.time())
        usage = {
            "prompt_tokens": 19,
            "completion_tokens": 10,
            "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        finish = "tool_calls" if reply.tool_name else "stop"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(h, cid, created, reply, usage if include_usage else None, finish, self.mode == "die_midstream")
        message = {"role": "assistant", "content": reply.full_text or None, "refusal": None, "annotations": []}
        if reply.tool_name:
            message["tool_calls"] = [
                {
                    "id": _id("call_"),
                    "type": "function",
                    "function": {"name": reply.tool_name, "arguments": json.dumps(reply.tool_input)},
                }
            ]
        h.send_json(
            200,
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": self.MODEL_SNAPSHOT,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_b3f1157249",
            },
            self._headers(),
        )

    def _stream(self, h, cid, created, reply, usage, finish, die):
        h.start_stream(self._headers())

        def chunk(delta, finish_reason=None, choices=True, **extra):
            obj = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.MODEL_SNAPSHOT,
                "service_tier": "default",
                "system_fingerprint": "fp_b3f1157249",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}] if choices else [],
            }
            if usage is not None:
                obj["usage"] = None
            obj.update(extra)
            h.chunk(f"data: {json.dumps(obj, separators=(',', ':'))}\n\n")

        chunk({"role": "assistant", "content": "", "refusal": None})
        chunks = PARTIAL_TEXT if die else reply.chunks
        for c in chunks:
            chunk({"content": c})
        if die:
            return h.drop()
        if reply.tool_name:
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": _id("call_"), "type": "function", "function": {"name": reply.tool_name, "arguments": ""}}
                    ]
                }
            )
            for frag in json_fragments(reply.tool_input):
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": frag}}]})
        chunk({}, finish)
        if usage is not None:
            chunk(None, choices=False, usage=usage)
        h.chunk("data: [DONE]\n\n")
        h.end_stream()
