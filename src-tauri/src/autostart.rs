//! "Start at login": an XDG autostart entry,
//! `$XDG_CONFIG_HOME/autostart/switchboard.desktop` (`~/.config` without it).
//!
//! Written here rather than with tauri-plugin-autostart, whose Linux backend
//! ignores `XDG_CONFIG_HOME`.

use std::io;
use std::path::{Path, PathBuf};

const FILE: &str = "switchboard.desktop";

/// Where the entry lives, or `None` without `XDG_CONFIG_HOME` and `HOME`.
pub fn entry_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("autostart").join(FILE))
}

pub fn is_enabled() -> bool {
    entry_path().is_some_and(|p| p.is_file())
}

/// Writes (on) or removes (off) the entry.
pub fn set_enabled(on: bool) -> io::Result<()> {
    let path = entry_path()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "neither XDG_CONFIG_HOME nor HOME is set"))?;
    if on {
        let exe = std::env::current_exe()?;
        write_entry(&path, &exe)
    } else {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

fn write_entry(path: &Path, exe: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, desktop_entry(exe))
}

/// The entry's text. The path is quoted as the Desktop Entry spec asks.
pub fn desktop_entry(exe: &Path) -> String {
    let exe = exe.display().to_string();
    let quoted = exe
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('`', "\\`")
        .replace('$', "\\$");
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Switchboard\n\
         Comment=Tells you when your LLM provider is failing\n\
         Exec=\"{quoted}\"\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_quotes_the_path() {
        let text = desktop_entry(Path::new("/opt/my apps/switch\"board"));
        assert!(text.contains("Exec=\"/opt/my apps/switch\\\"board\"\n"), "{text}");
        assert!(text.starts_with("[Desktop Entry]\n"));
    }

    #[test]
    fn write_then_remove() {
        let dir = std::env::temp_dir().join(format!("sb-autostart-{}", std::process::id()));
        let path = dir.join("autostart").join(FILE);
        write_entry(&path, Path::new("/usr/bin/switchboard-desktop")).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("Exec=\"/usr/bin/switchboard-desktop\""));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
