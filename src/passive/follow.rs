//! Follows a tree of append-only JSON-lines logs: reads only the bytes
//! appended since the last read and hands complete lines to a parser.
//!
//! File-system notifications (inotify, FSEvents, ReadDirectoryChangesW via
//! the `notify` crate) say which file grew; a slow full rescan catches what
//! notifications miss (a queue overflow, a directory created and filled
//! before its watch was added). Handles new files and directories,
//! truncation and replacement (a new inode), a partial last line (kept until
//! its newline arrives) and lines over [`MAX_LINE`] (skipped, never held).
//!
//! On start it does not replay history: files untouched for
//! [`FRESH_WINDOW`] are followed from their end; fresher ones from at most
//! [`START_TAIL`] before it, and errors older than the window are dropped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::{claude_code, codex, Agent, AgentError, LogLine, FRESH_WINDOW, MAX_LINE};

/// How much of a fresh file is read back on start, at most.
pub(crate) const START_TAIL: u64 = 4 << 20;
/// Read size; also bounds the memory one read holds.
const CHUNK: usize = 64 << 10;
/// A full rescan of the tree this often, for whatever notifications missed.
const RESCAN: Duration = Duration::from_secs(60);
/// How often a missing log directory is looked for again.
const ROOT_POLL: Duration = Duration::from_secs(10);
/// How deep below the root session files are looked for (Codex: YYYY/MM/DD).
const MAX_DEPTH: usize = 6;
/// Files followed at once, at most (oldest forgotten first on rescan).
const MAX_FILES: usize = 10_000;

/// Follows `root` until the returned future is dropped (the follow thread
/// notices within a second) or the receiver of `errors` is gone.
pub(crate) async fn follow(agent: Agent, root: PathBuf, errors: mpsc::Sender<AgentError>) {
    let stop = Arc::new(AtomicBool::new(false));
    let _guard = StopOnDrop(stop.clone());
    let thread = tokio::task::spawn_blocking(move || {
        let mut follower = Follower::new(agent);
        follower.run(&root, &stop, &mut |e| errors.blocking_send(e).is_ok());
    });
    let _ = thread.await;
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Where reading stands in one file.
#[derive(Debug, Default)]
struct FileState {
    offset: u64,
    inode: u64,
    /// The start of a line whose newline has not arrived yet.
    partial: Vec<u8>,
    /// Inside a line longer than [`MAX_LINE`]: drop bytes until its newline.
    skipping: bool,
    /// The session's model, from its earlier lines.
    model: Option<String>,
    /// When this file last grew (for forgetting the oldest).
    touched: Option<SystemTime>,
}

/// The synchronous follower; [`follow`] runs it on a blocking thread, tests
/// drive it step by step.
pub struct Follower {
    agent: Agent,
    files: HashMap<PathBuf, FileState>,
    /// Files and directories opened for reading so far (the cost a test can see).
    opened: u64,
}

impl Follower {
    pub fn new(agent: Agent) -> Self {
        Follower {
            agent,
            files: HashMap::new(),
            opened: 0,
        }
    }

    /// Follows `root` on this thread until `stop` is set or `emit` says stop.
    pub fn run(&mut self, root: &Path, stop: &AtomicBool, emit: &mut dyn FnMut(AgentError) -> bool) {
        while !root.is_dir() {
            if sleep_or_stop(ROOT_POLL, stop) {
                return;
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let mut watcher = match notify::recommended_watcher(tx) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(root = %root.display(), "no file notifications, rescanning every {RESCAN:?}: {e}");
                None
            }
        };
        if let Some(w) = watcher.as_mut() {
            if let Err(e) = w.watch(root, RecursiveMode::Recursive) {
                tracing::warn!(root = %root.display(), "cannot watch, rescanning every {RESCAN:?}: {e}");
            }
        }
        self.start(root);
        let mut last_scan = std::time::Instant::now();
        while !stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(Duration::from_secs(1)) {
                // Only growth and new entries matter. Access events (our own
                // reads open and close the file) must not trigger a read, or
                // every read would schedule the next one.
                Ok(Ok(event))
                    if !matches!(
                        event.kind,
                        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Other
                    ) => {}
                Ok(Ok(event)) => {
                    let rescan = event.need_rescan();
                    for path in event.paths {
                        if path.is_dir() {
                            self.scan(&path, 0, false, emit);
                        } else if self.wanted(&path) && !self.poll(&path, emit) {
                            return;
                        }
                    }
                    if rescan {
                        self.scan(root, 0, false, emit);
                    }
                }
                Ok(Err(e)) => tracing::debug!("file notification error: {e}"),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    if sleep_or_stop(Duration::from_secs(1), stop) {
                        return;
                    }
                }
            }
            if last_scan.elapsed() >= RESCAN {
                last_scan = std::time::Instant::now();
                if !root.is_dir() {
                    return self.run(root, stop, emit);
                }
                self.scan(root, 0, false, emit);
                self.forget_gone();
            }
        }
    }

    /// Positions every existing file without reporting history (see the module doc).
    pub fn start(&mut self, root: &Path) {
        self.scan(root, 0, true, &mut |_| true);
    }

    /// Reads what `path` gained since last time. `false` when `emit` said stop.
    pub fn poll(&mut self, path: &Path, emit: &mut dyn FnMut(AgentError) -> bool) -> bool {
        let Ok(meta) = std::fs::metadata(path) else {
            self.files.remove(path);
            return true;
        };
        if !self.files.contains_key(path) && self.files.len() >= MAX_FILES {
            return true;
        }
        let inode = inode(&meta);
        let state = self.files.entry(path.to_path_buf()).or_default();
        if state.inode != inode || meta.len() < state.offset {
            // Replaced or truncated: the new content starts at 0.
            *state = FileState {
                inode,
                ..FileState::default()
            };
        }
        if meta.len() == state.offset {
            return true;
        }
        state.touched = meta.modified().ok();
        let Ok(mut file) = File::open(path) else {
            return true;
        };
        self.opened += 1;
        if file.seek(SeekFrom::Start(state.offset)).is_err() {
            return true;
        }
        let agent = self.agent;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            state.offset += n as u64;
            let mut rest = &buf[..n];
            while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
                let (head, tail) = rest.split_at(nl);
                rest = &tail[1..];
                if state.skipping {
                    state.skipping = false;
                    continue;
                }
                if state.partial.len() + head.len() > MAX_LINE {
                    state.partial.clear();
                    continue;
                }
                let line = if state.partial.is_empty() {
                    head.to_vec()
                } else {
                    let mut l = std::mem::take(&mut state.partial);
                    l.extend_from_slice(head);
                    l
                };
                if let Some(error) = read_line(agent, &line, &mut state.model) {
                    if !emit(error) {
                        return false;
                    }
                }
            }
            if !state.skipping {
                if state.partial.len() + rest.len() > MAX_LINE {
                    state.partial = Vec::new();
                    state.skipping = true;
                } else {
                    state.partial.extend_from_slice(rest);
                }
            }
        }
        true
    }

    fn wanted(&self, path: &Path) -> bool {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        name.ends_with(".jsonl")
            && match self.agent {
                Agent::ClaudeCode => true,
                Agent::Codex => name.starts_with("rollout-"),
            }
    }

    /// Walks `dir`: on start, positions files; later, reads files it had not seen.
    fn scan(&mut self, dir: &Path, depth: usize, starting: bool, emit: &mut dyn FnMut(AgentError) -> bool) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        self.opened += 1;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && depth < MAX_DEPTH {
                self.scan(&path, depth + 1, starting, emit);
            } else if kind.is_file() && self.wanted(&path) {
                if starting {
                    self.position(&path);
                } else if !self.poll(&path, emit) {
                    return;
                }
            }
        }
    }

    /// Where reading a file found on start begins: its end when it is old,
    /// a bounded tail when it is fresh (errors there are filtered by time).
    fn position(&mut self, path: &Path) {
        let Ok(meta) = std::fs::metadata(path) else { return };
        if self.files.len() >= MAX_FILES {
            return;
        }
        let fresh = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age < FRESH_WINDOW);
        let offset = if fresh {
            meta.len().saturating_sub(START_TAIL)
        } else {
            meta.len()
        };
        self.files.insert(
            path.to_path_buf(),
            FileState {
                offset,
                inode: inode(&meta),
                // Mid-file, the first bytes are the end of a line: skip them.
                skipping: offset > 0 && fresh,
                touched: meta.modified().ok(),
                ..FileState::default()
            },
        );
    }

    fn forget_gone(&mut self) {
        self.files.retain(|path, _| path.exists());
    }

    /// How many times a file or directory was opened for reading.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Files followed now (for tests and the memory bound).
    pub fn followed(&self) -> usize {
        self.files.len()
    }

    /// Bytes held for unfinished lines, over every file (bounded by
    /// [`MAX_LINE`] per file).
    pub fn buffered(&self) -> usize {
        self.files.values().map(|f| f.partial.capacity()).sum()
    }
}

/// Parses one complete line; remembers the session's model; drops errors
/// older than [`FRESH_WINDOW`] (a resumed session copies its history).
fn read_line(agent: Agent, line: &[u8], model: &mut Option<String>) -> Option<AgentError> {
    let parsed = match agent {
        Agent::ClaudeCode => claude_code::parse(line),
        Agent::Codex => codex::parse(line),
    }?;
    match parsed {
        LogLine::Model(m) => {
            *model = Some(m);
            None
        }
        LogLine::Error(mut e) => {
            let age = Utc::now() - e.at;
            if age > chrono::Duration::from_std(FRESH_WINDOW).unwrap_or_default() {
                return None;
            }
            e.model = e.model.or_else(|| model.clone());
            Some(e)
        }
    }
}

fn sleep_or_stop(total: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(250);
    let mut slept = Duration::ZERO;
    while slept < total {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(step);
        slept += step;
    }
    stop.load(Ordering::Relaxed)
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}
