"""The OpenAI Codex CLI (`@openai/codex`, pinned in run.sh), which speaks only
the Responses API, through the gateway's `/v1/responses` while the OpenAI
fake fails with 500 and the Anthropic fake serves: the request is translated
Responses -> Chat Completions -> Anthropic Messages and the answer back, with
a shell tool call (`exec_command`) that Codex runs for real in between."""

import os
import subprocess
import tempfile

from conftest import CLIENT_KEY, capture, client_bin, client_version
from fakes import Reply

SECRET_WORD = "MANGO-7"
CODEX_TIMEOUT = 120


def run_codex(sb, prompt, cwd):
    home = tempfile.mkdtemp(prefix="switchboard-codex-home-")
    codex_home = os.path.join(home, ".codex")
    os.makedirs(codex_home)
    with open(os.path.join(codex_home, "config.toml"), "w") as f:
        f.write(
            "\n".join(
                [
                    'model = "gpt-5-codex"',
                    'model_provider = "switchboard"',
                    "[model_providers.switchboard]",
                    'name = "Switchboard gateway"',
                    f'base_url = "{sb.gateway}/v1"',
                    'env_key = "SWITCHBOARD_CODEX_KEY"',
                    'wire_api = "responses"',
                    # One try per turn: a gateway error must show, not be retried away.
                    "request_max_retries = 0",
                    "stream_max_retries = 0",
                    "",
                ]
            )
        )
    last = os.path.join(home, "last-message.txt")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "CODEX_HOME": codex_home,
        "SWITCHBOARD_CODEX_KEY": CLIENT_KEY,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    proc = subprocess.run(
        [
            client_bin("codex"),
            "exec",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            "--output-last-message",
            last,
            prompt,
        ],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CODEX_TIMEOUT,
    )
    assert proc.returncode == 0, f"codex exited {proc.returncode}\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
    with open(last) as f:
        return f.read()


def test_shell_tool_turn_through_responses_fails_over_to_anthropic(switchboard, fake_anthropic, fake_openai):
    sb = switchboard(preferred="openai", fallback=("openai", "anthropic"))
    fake_openai.mode = "error500"
    work = tempfile.mkdtemp(prefix="switchboard-codex-work-")
    with open(os.path.join(work, "note.txt"), "w") as f:
        f.write(f"The code word is {SECRET_WORD}.\n")

    def script(body):
        # First a shell call, then an answer quoting what the command printed.
        results = [
            b
            for m in body.get("messages", [])
            if isinstance(m.get("content"), list)
            for b in m["content"]
            if b.get("type") == "tool_result"
        ]
        if not results:
            return Reply.tool("exec_command", {"cmd": "cat note.txt"}, "Let me look.")
        content = results[-1].get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content)
        return Reply.text("The command printed: ", content.strip())

    fake_anthropic.reply = script
    answer = run_codex(sb, "What is the code word in note.txt?", work)
    assert SECRET_WORD in answer, answer
    tried = [r for r in fake_openai.requests if r.method == "POST"]
    assert tried, "the gateway tried the preferred provider (OpenAI) first"
    assert all(r.path == "/v1/responses" for r in tried), "OpenAI gets the Responses request as it is"
    # What Codex really sent (the gateway passed it to OpenAI unchanged).
    version = client_version("@openai/codex")
    outputs = [r for r in tried if any(i.get("type") == "function_call_output" for i in r.body.get("input", []))]
    capture(f"codex-{version}-first-turn.json", f"@openai/codex {version}", tried[0])
    if outputs:
        capture(f"codex-{version}-tool-output-turn.json", f"@openai/codex {version}", outputs[0])
    calls = fake_anthropic.calls("/v1/messages")
    assert len(calls) >= 2, "a tool call, then the answer"
    tools = {t["name"] for t in calls[0].body.get("tools", [])}
    assert "exec_command" in tools, tools
