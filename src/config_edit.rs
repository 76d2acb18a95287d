//! Writing the config back: changes one key and keeps the user's comments and
//! formatting (`toml_edit`), replacing the file atomically so a crash never
//! leaves half a config behind.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML, so it was left untouched: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Sets `preferred = "<id>"` in the file at `path`, creating the file (and its
/// directory) when there is none yet.
pub fn set_preferred(path: &Path, id: &str) -> Result<(), EditError> {
    edit(path, |doc| set_top_level(doc, "preferred", id.into()))
}

/// Sets `fallback = [..]`.
pub(crate) fn set_fallback(path: &Path, order: &[String]) -> Result<(), EditError> {
    let array: toml_edit::Array = order.iter().map(String::as_str).collect();
    edit(path, |doc| {
        set_top_level(doc, "fallback", toml_edit::Value::Array(array))
    })
}

/// Sets `auto_switch = <on>`.
pub(crate) fn set_auto_switch(path: &Path, on: bool) -> Result<(), EditError> {
    edit(path, |doc| set_top_level(doc, "auto_switch", on.into()))
}

/// Sets `[passive] claude_code` and `codex`: the user's consent to reading
/// their coding agents' session logs.
pub(crate) fn set_passive(path: &Path, settings: crate::model::PassiveSettings) -> Result<(), EditError> {
    edit(path, |doc| {
        let table = doc
            .entry("passive")
            .or_insert_with(toml_edit::table)
            .as_table_mut();
        // A `passive = ...` that is not a table is a config error the
        // validator reports; replace it rather than fail to save consent.
        let table = match table {
            Some(t) => t,
            None => {
                doc["passive"] = toml_edit::table();
                doc["passive"].as_table_mut().expect("just made a table")
            }
        };
        table["claude_code"] = toml_edit::value(settings.claude_code);
        table["codex"] = toml_edit::value(settings.codex);
    })
}

/// Sets `[inference] enabled` (the user's consent to paid checks) and,
/// when given, `interval_secs` and `monthly_budget_usd`.
pub fn set_inference(
    path: &Path,
    enabled: bool,
    interval_secs: Option<u64>,
    monthly_budget_usd: Option<f64>,
) -> Result<(), EditError> {
    edit(path, |doc| {
        if !doc.get("inference").is_some_and(|i| i.is_table()) {
            doc["inference"] = toml_edit::table();
        }
        let table = doc["inference"].as_table_mut().expect("just made a table");
        table["enabled"] = toml_edit::value(enabled);
        if let Some(secs) = interval_secs {
            table["interval_secs"] = toml_edit::value(i64::try_from(secs).unwrap_or(i64::MAX));
        }
        if let Some(usd) = monthly_budget_usd {
            table["monthly_budget_usd"] = toml_edit::value(usd);
        }
    })
}

/// Replaces a top-level value, keeping the whitespace and comment around it.
fn set_top_level(doc: &mut toml_edit::DocumentMut, key: &str, mut value: toml_edit::Value) {
    if let Some(old) = doc.get(key).and_then(|i| i.as_value()) {
        *value.decor_mut() = old.decor().clone();
    }
    doc[key] = toml_edit::Item::Value(value);
}

fn edit(path: &Path, change: impl FnOnce(&mut toml_edit::DocumentMut)) -> Result<(), EditError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(EditError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| EditError::Parse {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
    change(&mut doc);
    write_atomic(path, doc.to_string().as_bytes())
}

/// Writes to a sibling temp file, syncs it, then renames it over `path`.
/// When `path` is a symbolic link (a config kept in a dotfiles repository),
/// the file it points to is replaced, so the link stays a link.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let target = link_target(path);
    write_atomic_to(&target, bytes).map_err(|e| match e {
        EditError::Write { source, .. } => EditError::Write {
            path: path.to_path_buf(),
            source,
        },
        other => other,
    })
}

/// Where a write to `path` must land: the end of its chain of symbolic links
/// (at most [`MAX_LINKS`] deep), or `path` itself when it is not a link.
fn link_target(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Err(_) => break,
        }
    }
    current
}

/// Symbolic links followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

fn write_atomic_to(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let err = |source| EditError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temp_files(&dir, &file_name);
    let tmp = dir.join(temp_name(&file_name, std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        // Keep the original's permissions (a config may be private).
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// The sibling temp file a writer with process id `pid` writes `file_name` to.
fn temp_name(file_name: &str, pid: u32) -> String {
    format!(".{file_name}.{pid}.tmp")
}

/// Removes the temp files of writers of `file_name` in `dir` that died before
/// renaming theirs (a `switchboard prefer` killed mid-write): they are never
/// used again and would pile up beside the config. A temp file of a process
/// that is still alive is left to it.
fn remove_stale_temp_files(dir: &Path, file_name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    let prefix = format!(".{file_name}.");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own || process_alive(pid) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => {
                tracing::info!(file = %entry.path().display(), "removed the temp file of an interrupted config write")
            }
            Err(e) => {
                tracing::debug!(file = %entry.path().display(), error = %e, "could not remove a stale temp file")
            }
        }
    }
}

/// Whether a process with this id exists (signal 0 checks without sending).
/// `EPERM` means it exists under another user.
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Elsewhere there is no cheap check: keep every temp file (as before).
#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_comments_and_formatting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let original =
            "# my setup\npreferred = \"anthropic\"   # the good one\n\n[check]\ninterval_secs = 30 # fast\n";
        std::fs::write(&path, original).unwrap();
        set_preferred(&path, "openai").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# my setup\npreferred = \"openai\"   # the good one\n\n[check]\ninterval_secs = 30 # fast\n"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }

    #[test]
    fn fallback_and_auto_switch_are_written_as_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[check]\ninterval_secs = 30\n").unwrap();
        set_fallback(&path, &["openai".into(), "ollama".into()]).unwrap();
        set_auto_switch(&path, true).unwrap();
        let cfg = crate::config::Config::load(&path).unwrap();
        assert_eq!(cfg.fallback, ["openai", "ollama"]);
        assert!(cfg.auto_switch);
        assert_eq!(cfg.check.interval.as_secs(), 30);
    }

    #[test]
    fn creates_a_missing_file_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard/config.toml");
        set_preferred(&path, "ollama").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            "preferred = \"ollama\""
        );
    }

    #[cfg(unix)]
    #[test]
    fn saving_settings_writes_through_a_symlinked_config() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("dotfiles");
        std::fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("switchboard.toml");
        std::fs::write(&real, "# mine\npreferred = \"anthropic\"\n").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink("dotfiles/switchboard.toml", &link).unwrap();
        set_preferred(&link, "openai").unwrap();
        assert!(
            std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
            "the link was replaced"
        );
        let text = std::fs::read_to_string(&real).unwrap();
        assert!(
            text.contains("# mine") && text.contains("preferred = \"openai\""),
            "{text}"
        );
    }

    #[test]
    fn refuses_to_rewrite_invalid_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "preferred = [unclosed\n").unwrap();
        assert!(matches!(
            set_preferred(&path, "openai"),
            Err(EditError::Parse { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "preferred = [unclosed\n");
    }
}
