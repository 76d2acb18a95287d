//! Giving back the dashboard's memory once its window is closed.
//!
//! WebKitGTK ends a window's web process with the window, but keeps its
//! network process for the life of the app (the web context outlives every
//! view): some 35 MiB for a tray app that may not show a window again for
//! days. With no view left it serves nobody, and WebKit starts a new one when
//! the next view needs it, so it is ended here a few seconds after the last
//! window closed.
//!
//! Linux only: other platforms' webviews manage their helpers themselves.

/// The prefix of the network process's `comm` (the kernel cuts names at 15 bytes).
#[cfg(target_os = "linux")]
const NETWORK_PROCESS: &str = "WebKitNetworkPr";

/// Ends this process's idle WebKit network processes; returns how many.
#[cfg(target_os = "linux")]
pub fn end_idle_network_processes() -> usize {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut ended = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if parent_and_name(&stat).is_some_and(|(ppid, comm)| ppid == me && comm.starts_with(NETWORK_PROCESS))
        {
            // SAFETY: kill(2) with a pid read from /proc that is our own child
            // (a child cannot be reused by another process until we reap it).
            if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
                ended += 1;
            }
        }
    }
    ended
}

#[cfg(not(target_os = "linux"))]
pub fn end_idle_network_processes() -> usize {
    0
}

/// `(ppid, comm)` from a `/proc/PID/stat` line: `pid (comm) state ppid ...`,
/// where `comm` may itself contain spaces and parentheses.
#[cfg(target_os = "linux")]
fn parent_and_name(stat: &str) -> Option<(u32, &str)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((ppid, comm))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn reads_parent_and_name_even_with_odd_names() {
        let stat = "4242 (WebKitNetworkPr) S 4100 4100 4100 0 -1 4194560 2205 0 0 0 3 1 0 0 20 0 6";
        assert_eq!(parent_and_name(stat), Some((4100, "WebKitNetworkPr")));
        let odd = "7 (a) b (c)) R 1 7 7";
        assert_eq!(parent_and_name(odd), Some((1, "a) b (c)")));
        assert_eq!(parent_and_name("garbage"), None);
    }
}
