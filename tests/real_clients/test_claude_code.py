"""Claude Code (`@anthropic-ai/claude-code`, pinned in run.sh) through the
gateway while the Anthropic fake fails every call with 500 `api_error` and the
OpenAI fake serves: the failover Claude Code users need, proven with the
client itself rather than requests shaped like the docs.

`claude -p` runs non-interactively with a temp HOME, no auto-updater, no
telemetry, and no retries of its own (so a gateway error shows at once)."""

import json
import os
import subprocess
import tempfile

from conftest import CLIENT_KEY, capture, client_bin, client_version
from fakes import Reply

# Only in the file the Read tool returns: an answer that contains it was
# built from the tool result, not from the prompt.
SECRET_WORD = "PINEAPPLE-42"
CLAUDE_TIMEOUT = 120


def run_claude(sb, prompt, cwd, *args):
    home = tempfile.mkdtemp(prefix="switchboard-claude-home-")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "ANTHROPIC_BASE_URL": sb.gateway,
        "ANTHROPIC_API_KEY": CLIENT_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    proc = subprocess.run(
        [client_bin("claude"), "-p", prompt, "--output-format", "json", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLAUDE_TIMEOUT,
    )
    assert proc.returncode == 0, f"claude exited {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def version():
    return "@anthropic-ai/claude-code " + client_version("@anthropic-ai/claude-code")


def test_plain_turn_fails_over_to_openai(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic", fallback=("anthropic", "openai"))
    fake_anthropic.mode = "error500"
    fake_openai.reply = Reply.text("Served", " through", " the", " failover.")
    work = tempfile.mkdtemp(prefix="switchboard-claude-work-")
    result = run_claude(sb, "Say hello.", work)
    assert result["is_error"] is False, result
    assert result["result"] == "Served through the failover."
    sent = fake_anthropic.calls("/v1/messages")
    assert sent, "the gateway tried the preferred provider first"
    assert any(m.get("role") == "system" for m in sent[0].body["messages"]), (
        "Claude Code sends system turns inside messages: the case this stage guards"
    )
    assert fake_openai.calls("/chat/completions"), "OpenAI served"
    capture(f"claude-code-{client_version('@anthropic-ai/claude-code')}-first-turn.json", version(), sent[0])


def test_tool_turn_reads_a_file_and_quotes_it(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="anthropic", fallback=("anthropic", "openai"))
    fake_anthropic.mode = "error500"
    work = tempfile.mkdtemp(prefix="switchboard-claude-work-")
    note = os.path.join(work, "note.txt")
    with open(note, "w") as f:
        f.write(f"The code word is {SECRET_WORD}.\n")

    def script(body):
        # First a Read call, then an answer quoting what the tool returned.
        results = [m for m in body.get("messages", []) if m.get("role") == "tool"]
        if not results:
            return Reply.tool("Read", {"file_path": note}, "Reading the note.")
        content = results[-1].get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content)
        return Reply.text("The note says: ", content.strip())

    fake_openai.reply = script
    result = run_claude(sb, "What is the code word in note.txt?", work, "--allowedTools", "Read")
    assert result["is_error"] is False, result
    assert SECRET_WORD in result["result"], result["result"]
    chats = fake_openai.calls("/chat/completions")
    assert len(chats) >= 2, "a tool call, then the answer"
    tool_msgs = [m for m in chats[-1].body["messages"] if m["role"] == "tool"]
    assert tool_msgs and tool_msgs[-1]["tool_call_id"] == [
        c for m in chats[-1].body["messages"] if m["role"] == "assistant" for c in (m.get("tool_calls") or [])
    ][-1]["id"], "the tool result answers the call Claude Code made"
    tried = fake_anthropic.calls("/v1/messages")
    with_result = [
        r
        for r in tried
        if any(
            isinstance(m.get("content"), list) and any(b.get("type") == "tool_result" for b in m["content"])
            for m in r.body["messages"]
        )
    ]
    if with_result:
        capture(f"claude-code-{client_version('@anthropic-ai/claude-code')}-tool-result-turn.json", version(), with_result[0])
