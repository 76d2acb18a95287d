//! Credentials: the OS keyring (service `switchboard`, account = provider id),
//! with the provider's `api_key_env` variable as a fallback.
//!
//! A [`Secret`] never prints its value (`Debug`/`Display` are redacted), so it
//! cannot leak through logs, errors or panics by accident. Keyring calls block
//! on D-Bus; async callers go through `spawn_blocking` (see [`Credentials`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::{Provider, ProviderKind};
use crate::gateway::vertex::TokenSource;
use crate::model::CredentialSource;

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

/// A resolved credential for one provider.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The key. `None` with source `Env` on Bedrock means AWS access keys,
    /// which `gateway::bedrock::resolve_auth` reads.
    pub secret: Option<Secret>,
    pub source: CredentialSource,
    /// Why the keyring could not be read, when it could not (shown to the user).
    pub keyring_error: Option<String>,
}

/// Looks up an environment variable by name.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Resolves credentials: keyring first, then the provider's env var.
///
/// The environment is passed in as a lookup function so that callers (and tests)
/// decide where variables come from; production passes `std::env::var`.
///
/// Clones share one cache of command-issued tokens (Vertex), so the probes and
/// the gateway run `gcloud` once per token lifetime, not once each.
#[derive(Clone)]
pub struct Credentials {
    store: Arc<dyn SecretStore>,
    env: EnvLookup,
    tokens: Arc<Mutex<HashMap<Vec<String>, TokenSource>>>,
}

impl Credentials {
    pub fn new(store: Arc<dyn SecretStore>, env: EnvLookup) -> Self {
        Credentials {
            store,
            env,
            tokens: Arc::default(),
        }
    }

    /// Where environment variables come from: the cloud kinds read more than
    /// `api_key_env` (AWS access keys, regions, Google Cloud projects).
    pub fn env(&self) -> &EnvLookup {
        &self.env
    }

    /// The shared token source for a token command (program and arguments).
    pub fn token_source(&self, command: &[String]) -> TokenSource {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .entry(command.to_vec())
            .or_insert_with(|| TokenSource::new(command.to_vec()))
            .clone()
    }

    /// The OS keyring plus the process environment.
    pub fn system() -> Self {
        Credentials::new(Arc::new(KeyringStore), Arc::new(|name| std::env::var(name).ok()))
    }

    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.store
    }

    /// Blocking lookup (keyring D-Bus call). Use [`Credentials::resolve`] from async code.
    pub fn resolve_blocking(&self, provider: &Provider) -> Credential {
        if !provider.needs_key() {
            return Credential {
                secret: None,
                source: CredentialSource::NotNeeded,
                keyring_error: None,
            };
        }
        let (from_keyring, keyring_error) = match self.store.get(&provider.id) {
            Ok(s) => (s, None),
            Err(e) => (None, Some(e.to_string())),
        };
        if let Some(secret) = from_keyring {
            return Credential {
                secret: Some(secret),
                source: CredentialSource::Keyring,
                keyring_error: None,
            };
        }
        let from_env = provider
            .api_key_env
            .as_deref()
            .and_then(|name| (self.env)(name))
            .filter(|v| !v.trim().is_empty())
            .map(Secret);
        // Bedrock signs with AWS access keys when there is no API key; they
        // come from the environment or the AWS credentials file the AWS CLI
        // writes (reported as `Env`: both are the user's AWS setup).
        let aws_keys = || {
            provider.kind == ProviderKind::Bedrock
                && crate::gateway::bedrock::aws_credentials(&*self.env).is_some()
        };
        match from_env {
            Some(secret) => Credential {
                secret: Some(secret),
                source: CredentialSource::Env,
                keyring_error,
            },
            None if aws_keys() => Credential {
                secret: None,
                source: CredentialSource::Env,
                keyring_error,
            },
            None => Credential {
                secret: None,
                source: if keyring_error.is_some() {
                    CredentialSource::Unavailable
                } else {
                    CredentialSource::None
                },
                keyring_error,
            },
        }
    }

    pub async fn resolve(&self, provider: &Provider) -> Credential {
        let this = self.clone();
        let provider = provider.clone();
        match tokio::task::spawn_blocking(move || this.resolve_blocking(&provider)).await {
            Ok(c) => c,
            Err(e) => Credential {
                secret: None,
                source: CredentialSource::Unavailable,
                keyring_error: Some(format!("keyring lookup failed: {e}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn provider(id: &str) -> Provider {
        Config::parse("", Path::new("x"))
            .unwrap()
            .provider(id)
            .unwrap()
            .clone()
    }

    struct Broken;
    impl SecretStore for Broken {
        fn get(&self, _: &str) -> Result<Option<Secret>, SecretError> {
            Err(SecretError::Unavailable("no bus".into()))
        }
        fn set(&self, _: &str, _: &Secret) -> Result<(), SecretError> {
            Err(SecretError::Unavailable("no bus".into()))
        }
        fn delete(&self, _: &str) -> Result<bool, SecretError> {
            Err(SecretError::Unavailable("no bus".into()))
        }
    }

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("sk-ant-very-secret");
        assert!(!format!("{s:?} {s}").contains("very-secret"));
    }

    #[test]
    fn keyring_wins_over_env() {
        let store = Arc::new(MemoryStore::default());
        store.set("anthropic", &Secret::new("from-keyring")).unwrap();
        let creds = Credentials::new(store, Arc::new(|_| Some("from-env".into())));
        let c = creds.resolve_blocking(&provider("anthropic"));
        assert_eq!(c.source, CredentialSource::Keyring);
        assert_eq!(c.secret.unwrap().expose(), "from-keyring");
    }

    #[test]
    fn env_fallback_uses_the_named_variable() {
        let creds = Credentials::new(
            Arc::new(MemoryStore::default()),
            Arc::new(|name| (name == "OPENAI_API_KEY").then(|| "sk-env".into())),
        );
        let c = creds.resolve_blocking(&provider("openai"));
        assert_eq!(c.source, CredentialSource::Env);
        assert_eq!(
            creds.resolve_blocking(&provider("anthropic")).source,
            CredentialSource::None
        );
        assert_eq!(
            creds.resolve_blocking(&provider("ollama")).source,
            CredentialSource::NotNeeded
        );
    }

    #[test]
    fn broken_keyring_falls_back_and_says_why() {
        let creds = Credentials::new(Arc::new(Broken), Arc::new(|_| None));
        let c = creds.resolve_blocking(&provider("anthropic"));
        assert_eq!(c.source, CredentialSource::Unavailable);
        assert!(c.keyring_error.unwrap().contains("no bus"));
        let creds = Credentials::new(Arc::new(Broken), Arc::new(|_| Some("k".into())));
        assert_eq!(
            creds.resolve_blocking(&provider("anthropic")).source,
            CredentialSource::Env
        );
    }
}
