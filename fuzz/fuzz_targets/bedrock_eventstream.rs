//! Bedrock's binary event stream (length-prefixed, CRC-checked frames), fed in
//! chunks of the size the first byte says.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::gateway::bedrock::EventStreamDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    let mut d = EventStreamDecoder::new();
    for c in rest.chunks(size.max(1) as usize) {
        match d.push(c) {
            Ok(frames) => {
                for f in frames {
                    let _ = f.as_error();
                }
            }
            Err(_) => return,
        }
    }
    let _ = d.finish();
});
