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

#[derive(Debug, thiserror::Error)]
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

/// The OS keyring via the `keyring` crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyringStore;

impl KeyringStore {
    fn entry(id: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, id).map_err(map_keyring_error)
    }
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
        match Self::entry(id)?.get_password() {
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) => Ok(Some(Secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e)),
        }
    }

    fn set(&self, id: &str, secret: &Secret) -> Result<(), SecretError> {
        if secret.0.trim().is_empty() {
            return Err(SecretError::Empty);
        }
        Self::entry(id)?
            .set_password(&secret.0)
            .map_err(map_keyring_error)
    }

    fn delete(&self, id: &str) -> Result<bool, SecretError> {
        match Self::entry(id)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_keyring_error(e)),
        }
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
    fn secret_never_formats_its_value() {
        let s = Secret::new("sk-ant-very-secret");
        assert!(!format!("{s:?} {s}").contains("very-secret"));
    }
}
