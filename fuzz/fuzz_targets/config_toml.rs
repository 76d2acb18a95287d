//! config.toml: parse and validate (what `load` and the hot reload do).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = switchboard::config::Config::parse(text, std::path::Path::new("/fuzz/config.toml")) {
        let msg = e.to_string();
        assert!(msg.len() < 4096, "config error of {} bytes", msg.len());
    }
});
