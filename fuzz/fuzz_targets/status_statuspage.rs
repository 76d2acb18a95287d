//! Status page feed (Statuspage): parse, caps, verdict and format detection.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use switchboard::model::StatusFormat;
use switchboard::status;

fuzz_target!(|data: &[u8]| {
    let page = url::Url::parse("https://status.claude.com").unwrap();
    let adapter = status::adapter(StatusFormat::Statuspage, &page).unwrap();
    for slot in 0..1 {
        let mut bodies = vec![Bytes::new(); 1];
        bodies[slot] = Bytes::copy_from_slice(data);
        if let Ok(parsed) = adapter.parse(&bodies) {
            let page = status::bounds::bound(parsed);
            let _ = status::page_verdict(&page, &["Claude API".to_string()]);
        }
    }
    let _ = status::detect::detect(&page, data);
});
