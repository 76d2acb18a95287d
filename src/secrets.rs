//! Secrets and where they are stored: the OS keyring (service `switchboard`,
//! account = provider id) or an in-memory store.
//!
//! A [`Secret`] never prints its value (`Debug`/`Display` are redacted), so it
//! cannot leak through logs, errors or panics by accident. Keyring calls block
//! on D-Bus; async callers go through `spawn_blocking` (see `credentials`).
//!
//! Left out on purpose: which secret a provider uses and the other places
//! it may come from (environment, AWS and Google credentials): `credentials`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keyring service name shared by the CLI, the daemon and the desktop app.
pub const SERVICE: &str = "switchboard";

/// An API key. Its value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value, for the one place that needs it: an outgoing request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum SecretError {
    /// No Secret Service (no session bus, no daemon) or an unsupported platform.
    #[error("no usable keyring: {0}. Start a Secret Service (e.g. gnome-keyring) or set the provider's api_key_env variable")]
    Unavailable(String),
    /// The keyring exists but refused access, typically because it is locked.
    #[error("the keyring is locked or refused access: {0}. Unlock it (log in to your desktop session) and try again")]
    Locked(String),
    #[error("keyring error: {0}")]
    Other(String),
    #[error("the secret is empty")]
    Empty,
}

/// Where keys are stored. One implementation per file would be overkill for two
/// small stores; both live here and run the same contract tests.
pub trait SecretStore: Send + Sync {
    fn get(&self, id: &str) -> Result<Option<Secret>, SecretError>;
    fn set(&self, id: &str, secret: &Secret) -> Result<(), SecretError>;
    /// Returns whether something was deleted.
    fn delete(&self, id: &str) -> Result<bool, SecretError>;
}

/// The OS keyring: the Secret Service on Linux and the BSDs, the Keychain on
/// macOS, the Credential Manager on Windows (`keyring-core` and the
/// platform's store crate).
///
/// The connection belongs to this value, not to the process. The `keyring`
/// crate's `Entry` opened one Secret Service session per process, for good:
/// once the daemon was killed or replaced, every call went to a session the
/// new daemon had never heard of, and Switchboard stayed `unavailable` after
/// the keyring came back. Here a failed call drops the connection; the next
/// call opens a new one, and when opening fails too, further attempts back off
/// ([`RECONNECT_BACKOFF_FIRST`] doubling up to [`RECONNECT_BACKOFF_MAX`]), so a
/// keyring that is gone costs nothing per round but is found again soon after
/// it returns. Meanwhile calls answer at once with the last error.
pub struct KeyringStore {
    conn: Mutex<Connection>,
}

/// First wait before opening the keyring again after an attempt failed.
pub const RECONNECT_BACKOFF_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between attempts: a keyring that returns is used again
/// within this long.
pub const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The platform store, as `keyring-core` hands it out.
type PlatformStore = Arc<keyring_core::CredentialStore>;

/// The open store, or why there is none and when to try again.
#[derive(Default)]
struct Connection {
    store: Option<PlatformStore>,
    /// Failed attempts to open (or use) the store since it last worked.
    failures: u32,
    /// No attempt before this.
    retry_at: Option<Instant>,
    /// What the last failure said, for the calls answered during the backoff.
    last_error: Option<SecretError>,
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new()
    }
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyringStore")
    }
}

impl KeyringStore {
    /// A store that opens the platform keyring on first use.
    pub fn new() -> Self {
        KeyringStore {
            conn: Mutex::new(Connection::default()),
        }
    }

    /// The open store: the current one, a new one when the backoff allows,
    /// or the last error without touching the platform.
    fn store(&self) -> Result<PlatformStore, SecretError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| SecretError::Other("poisoned".into()))?;
        if let Some(store) = &conn.store {
            return Ok(Arc::clone(store));
        }
        let now = Instant::now();
        if let (Some(at), Some(e)) = (conn.retry_at, &conn.last_error) {
            if now < at {
                return Err(e.clone());
            }
        }
        match open_platform_store() {
            Ok(store) => {
                if conn.failures > 0 {
                    tracing::info!("keyring: connected again");
                }
                conn.store = Some(Arc::clone(&store));
                conn.retry_at = None;
                Ok(store)
            }
            Err(e) => {
                let e = map_keyring_error(e);
                conn.failed(now, &e);
                Err(e)
            }
        }
    }

    /// Notes the outcome of a call on `store`: a failure of the keyring itself
    /// (unavailable, locked) drops the connection (unless another call has
    /// already replaced it) so that the next call opens a new one. A failure
    /// of one entry (a value that is not text) says nothing about the others.
    fn outcome<T>(&self, store: &PlatformStore, result: Result<T, SecretError>) -> Result<T, SecretError> {
        let Ok(mut conn) = self.conn.lock() else {
            return result;
        };
        match &result {
            Ok(_) => {
                conn.failures = 0;
                conn.last_error = None;
            }
            Err(SecretError::Other(_) | SecretError::Empty) => {}
            Err(e) => {
                if conn.store.as_ref().is_some_and(|s| Arc::ptr_eq(s, store)) {
                    tracing::warn!(error = %e, "keyring: call failed; reconnecting");
                    conn.store = None;
                    conn.failed(Instant::now(), e);
                }
            }
        }
        result
    }

    fn entry(store: &PlatformStore, id: &str) -> Result<keyring_core::Entry, SecretError> {
        keyring_core::Entry::new_in_store(store, SERVICE, id).map_err(map_keyring_error)
    }

    /// Runs `call` on this id's entry, reconnecting as [`KeyringStore`] says.
    fn with_entry<T>(
        &self,
        id: &str,
        call: impl FnOnce(&keyring_core::Entry) -> Result<T, SecretError>,
    ) -> Result<T, SecretError> {
        let store = self.store()?;
        let result = Self::entry(&store, id).and_then(|entry| call(&entry));
        self.outcome(&store, result)
    }
}

impl Connection {
    /// Opening or using the store failed: the next attempt waits for
    /// [`reconnect_backoff`].
    fn failed(&mut self, now: Instant, e: &SecretError) {
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now + reconnect_backoff(self.failures));
        self.last_error = Some(e.clone());
        tracing::debug!(error = %e, failures = self.failures, "keyring: not usable");
    }
}

/// The wait before the next attempt after `failures` failures in a row. The
/// first retry is immediate: most failures are a daemon that was restarted or
/// replaced and answers a new session at once. Then [`RECONNECT_BACKOFF_FIRST`],
/// doubled each time, at most [`RECONNECT_BACKOFF_MAX`].
fn reconnect_backoff(failures: u32) -> Duration {
    match failures {
        0 | 1 => Duration::ZERO,
        n => RECONNECT_BACKOFF_FIRST
            .saturating_mul(1 << (n - 2).min(16))
            .min(RECONNECT_BACKOFF_MAX),
    }
}

/// Opens this platform's keyring (what the `keyring` crate's `v1` feature picks).
fn open_platform_store() -> keyring::Result<PlatformStore> {
    #[cfg(target_os = "macos")]
    let store: PlatformStore = apple_native_keyring_store::keychain::Store::new()?;
    #[cfg(target_os = "windows")]
    let store: PlatformStore = windows_native_keyring_store::Store::new()?;
    #[cfg(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))))]
    let store: PlatformStore = zbus_secret_service_keyring_store::Store::new()?;
    #[cfg(any(
        all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))),
        target_os = "macos",
        target_os = "windows"
    ))]
    return Ok(store);
    #[allow(unreachable_code)]
    Err(keyring::Error::NoDefaultStore)
}

fn map_keyring_error(e: keyring::Error) -> SecretError {
    use keyring::Error as E;
    match e {
        E::NoDefaultStore => SecretError::Unavailable(
            "no default credential store (is a Secret Service running on the session bus?)".into(),
        ),
        E::NoStorageAccess(inner) => SecretError::Locked(inner.to_string()),
        E::PlatformFailure(inner) => {
            let text = inner.to_string();
            if text.to_lowercase().contains("locked") {
                SecretError::Locked(text)
            } else {
                SecretError::Unavailable(text)
            }
        }
        // Other variants carry no secret material in their Display.
        other => SecretError::Other(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, id: &str) -> Result<Option<Secret>, SecretError> {
        self.with_entry(id, |entry| match entry.get_password() {
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) => Ok(Some(Secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e)),
        })
    }

    fn set(&self, id: &str, secret: &Secret) -> Result<(), SecretError> {
        if secret.0.trim().is_empty() {
            return Err(SecretError::Empty);
        }
        self.with_entry(id, |entry| {
            entry.set_password(&secret.0).map_err(map_keyring_error)
        })
    }

    fn delete(&self, id: &str) -> Result<bool, SecretError> {
        self.with_entry(id, |entry| match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_keyring_error(e)),
        })
    }
}

/// An in-process store: for embedding and for tests of code that merely *uses*
/// credentials (the keyring itself is tested against a real Secret Service).
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Secret>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, id: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .map
            .lock()
            .map_err(|_| SecretError::Other("poisoned".into()))?
            .get(id)
            .cloned())
    }

    fn set(&self, id: &str, secret: &Secret) -> Result<(), SecretError> {
        if secret.0.trim().is_empty() {
            return Err(SecretError::Empty);
        }
        self.map
            .lock()
            .map_err(|_| SecretError::Other("poisoned".into()))?
            .insert(id.to_string(), secret.clone());
        Ok(())
    }

    fn delete(&self, id: &str) -> Result<bool, SecretError> {
        Ok(self
            .map
            .lock()
            .map_err(|_| SecretError::Other("poisoned".into()))?
            .remove(id)
            .is_some())
    }
}

/// Looks up an environment variable by name.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_at_once_then_backs_off_to_a_cap() {
        let waits: Vec<u64> = (1..=9).map(|n| reconnect_backoff(n).as_secs()).collect();
        assert_eq!(waits, [0, 1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(reconnect_backoff(u32::MAX), RECONNECT_BACKOFF_MAX);
    }

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("sk-ant-very-secret");
        assert!(!format!("{s:?} {s}").contains("very-secret"));
    }
}
