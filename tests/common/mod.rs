//! Shared test helpers.

/// Whether a test that needs the real Secret Service may run.
///
/// `true` when a session bus is there (`DBUS_SESSION_BUS_ADDRESS`). Otherwise the
/// test should return early: this prints a skip note and returns `false`, unless
/// `CI` or `SWITCHBOARD_REQUIRE_KEYRING=1` is set, in which case it panics, so CI
/// cannot go green without having tested the keyring. `make test` runs the tests
/// under `scripts/with-secret-service.sh`, which provides the bus and the keyring.
pub fn secret_service_or_skip(test: &str) -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    let why = "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)";
    if keyring_required() {
        panic!(
            "{test}: {why}, but CI or SWITCHBOARD_REQUIRE_KEYRING=1 requires the Secret Service. \
             Run the tests under scripts/with-secret-service.sh (`make test` does)."
        );
    }
    eprintln!("note: skipping {test}: {why}; run under scripts/with-secret-service.sh to include it");
    false
}

/// CI (any value but empty, `0` or `false`) or `SWITCHBOARD_REQUIRE_KEYRING=1`.
pub fn keyring_required() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    ci || std::env::var("SWITCHBOARD_REQUIRE_KEYRING").is_ok_and(|v| v == "1")
}

/// A request's head and body read off `socket` (enough HTTP/1.1 for a raw
/// fake server); `None` when the connection ends first.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[head_end..].to_vec()))
}
