//! The per-install API token: 32 random bytes, hex, in a file named `token`
//! beside the config file, readable by its owner only (mode 0600).
//!
//! Mutating API requests must carry it (`x-switchboard-token`), so that a web
//! page the user happens to visit cannot change keys or settings even though
//! the server listens on the same machine. The dashboard gets it inside
//! `index.html`; scripts read the file. It is not a user password: losing it
//! costs nothing (delete the file, restart), so it is never rotated otherwise.
//!
//! Leaves out: where the config directory is (the caller passes it).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

/// File name of the token, inside the config directory.
pub const TOKEN_FILE: &str = "token";

/// Request header that carries the token.
pub const TOKEN_HEADER: &str = "x-switchboard-token";

/// Random bytes per token: 256 bits, beyond guessing over a loopback socket.
const TOKEN_BYTES: usize = 32;

/// Anything longer than this in the file is not a token we wrote.
const MAX_FILE_LEN: u64 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot {action} the API token file {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a regular file; move it away so Switchboard can write its API token there")]
    NotAFile(PathBuf),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// The token. `Debug` is redacted so it cannot leak through logs.
pub struct Token {
    value: String,
    path: PathBuf,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("path", &self.path)
            .finish()
    }
}

impl Token {
    /// Reads `dir/token`, or creates it (and `dir`) when missing. A file that
    /// other users could read, or that does not hold a token, is replaced by a
    /// fresh one: the old value must be assumed known.
    pub fn load_or_create(dir: &Path) -> Result<Token, TokenError> {
        create_private_dir(dir)?;
        let path = dir.join(TOKEN_FILE);
        // Two attempts: if another process creates the file between our read
        // and our create, the second read picks up its token.
        for _ in 0..2 {
            match read_existing(&path)? {
                Existing::Valid(value) => return Ok(Token { value, path }),
                Existing::Missing => {
                    if let Some(value) = write_new(&path, false)? {
                        return Ok(Token { value, path });
                    }
                }
                Existing::Unsafe(why) => {
                    tracing::warn!(path = %path.display(), "{why}; writing a new API token");
                    if let Some(value) = write_new(&path, true)? {
                        return Ok(Token { value, path });
                    }
                }
            }
        }
        Err(TokenError::Io {
            action: "create",
            path,
            source: std::io::Error::other("it keeps changing underneath us"),
        })
    }

    /// The token text (64 hex characters), for the dashboard page and for clients.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Compares in time independent of where the first difference is, so the
    /// token cannot be found byte by byte from response times.
    pub(crate) fn matches(&self, candidate: &[u8]) -> bool {
        let expected = self.value.as_bytes();
        if candidate.len() != expected.len() {
            return false;
        }
        let diff = expected
            .iter()
            .zip(candidate)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

enum Existing {
    Valid(String),
    Missing,
    Unsafe(&'static str),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> TokenError {
    let path = path.to_path_buf();
    move |source| TokenError::Io { action, path, source }
}

fn read_existing(path: &Path) -> Result<Existing, TokenError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(e) => return Err(io_err("inspect", path)(e)),
    };
    if !meta.is_file() {
        return Err(TokenError::NotAFile(path.to_path_buf()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Ok(Existing::Unsafe("the API token file was readable by other users"));
        }
    }
    let mut text = String::new();
    match File::open(path) {
        Ok(f) => f
            .take(MAX_FILE_LEN)
            .read_to_string(&mut text)
            .map_err(io_err("read", path))?,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(e) => return Err(io_err("read", path)(e)),
    };
    let value = text.trim();
    if is_token(value) {
        Ok(Existing::Valid(value.to_string()))
    } else {
        Ok(Existing::Unsafe("the API token file does not hold a token"))
    }
}

fn is_token(s: &str) -> bool {
    s.len() == TOKEN_BYTES * 2 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Writes a fresh token atomically: a private temp file, then a link (no
/// clobber: returns `None` if someone else created the file first) or, when
/// `replace`, a rename over the old file.
fn write_new(path: &Path, replace: bool) -> Result<Option<String>, TokenError> {
    let value = generate()?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let tmp = dir.join(format!(".{TOKEN_FILE}.{}.{}", std::process::id(), &value[..8]));
    let written = (|| {
        let mut f = private_create_new(&tmp)?;
        f.write_all(value.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write", &tmp)(e));
    }
    let placed = if replace {
        fs::rename(&tmp, path).map(|()| true)
    } else {
        match fs::hard_link(&tmp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            // A file system without hard links: a rename is still atomic.
            Err(_) => fs::rename(&tmp, path).map(|()| true),
        }
    };
    let _ = fs::remove_file(&tmp);
    match placed {
        Ok(true) => Ok(Some(value)),
        Ok(false) => Ok(None),
        Err(e) => Err(io_err("write", path)(e)),
    }
}

fn generate() -> Result<String, TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn private_create_new(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn create_private_dir(dir: &Path) -> Result<(), TokenError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(io_err("create the directory of", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_needs_the_exact_token() {
        let t = Token {
            value: "ab".repeat(TOKEN_BYTES),
            path: PathBuf::new(),
        };
        assert!(t.matches("ab".repeat(TOKEN_BYTES).as_bytes()));
        assert!(!t.matches("ab".repeat(TOKEN_BYTES - 1).as_bytes()));
        assert!(!t.matches(format!("{}ac", "ab".repeat(TOKEN_BYTES - 1)).as_bytes()));
        assert!(!t.matches(b""));
        assert!(!format!("{t:?}").contains("abab"));
    }

    #[test]
    fn generated_tokens_are_hex_and_differ() {
        let a = generate().unwrap();
        assert!(is_token(&a));
        assert_ne!(a, generate().unwrap());
    }
}
