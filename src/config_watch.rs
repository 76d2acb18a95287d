//! Follows the config file while the engine runs, so `switchboard prefer`, an
//! editor or the tray's writes reach the running engine (and through it the
//! dashboard and the gateway) within seconds.
//!
//! Polls the file's modification time and length: portable, no extra
//! dependency, and cheap at one `stat` every [`POLL`]. A file that does not
//! parse is reported to the engine, which keeps its last good config.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tracing::debug;

use crate::config::Config;
use crate::engine::EngineHandle;

/// How often the file is looked at.
pub(crate) const POLL: Duration = Duration::from_secs(2);

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())))
}

/// Watches `path` until the engine stops.
pub(crate) fn spawn_config_watcher(
    path: PathBuf,
    engine: EngineHandle,
    poll: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = stamp(&path);
        let mut ticker = tokio::time::interval(poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = stamp(&path);
            if now == last {
                continue;
            }
            last = now;
            debug!(path = %path.display(), "config file changed");
            let p = path.clone();
            let loaded = match tokio::task::spawn_blocking(move || Config::load(&p)).await {
                Ok(result) => result,
                Err(_) => continue,
            };
            let sent = match loaded {
                Ok(config) => engine.reload(config).await,
                Err(e) => engine.config_error(Some(e.to_string())).await,
            };
            if sent.is_err() {
                break; // the engine has stopped
            }
        }
    })
}
