//! Claude Code and Codex session-log lines.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = switchboard::passive::claude_code::parse(data);
    let _ = switchboard::passive::codex::parse(data);
});
