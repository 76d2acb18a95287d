//! Credentials: what authenticates Switchboard to each provider. The OS
//! keyring first (`secrets`), then the provider's `api_key_env` variable; for
//! Bedrock also AWS access keys, and the cache of Vertex's command-issued
//! tokens (`cloud`), so every clone (the probes and the gateway) shares them.
//!
//! Left out on purpose: how a credential goes on the wire (`cloud`'s signing,
//! `upstream`'s headers).

use std::sync::Arc;

use crate::cloud::aws::aws_credentials;
use crate::cloud::google::TokenCache;
use crate::config::Provider;
use crate::model::CredentialSource;
use crate::model::ProviderKind;
use crate::secrets::{EnvLookup, KeyringStore, Secret, SecretStore};

/// A resolved credential for one provider.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The key. `None` with source `Env` on Bedrock means AWS access keys,
    /// which `upstream::bedrock::resolve_auth` reads.
    pub secret: Option<Secret>,
    pub source: CredentialSource,
    /// Why the keyring could not be read, when it could not (shown to the user).
    pub keyring_error: Option<String>,
}

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
    tokens: TokenCache,
}

impl Credentials {
    pub fn new(store: Arc<dyn SecretStore>, env: EnvLookup) -> Self {
        Credentials {
            store,
            env,
            tokens: TokenCache::default(),
        }
    }

    /// Where environment variables come from: the cloud kinds read more than
    /// `api_key_env` (AWS access keys, regions, Google Cloud projects).
    pub(crate) fn env(&self) -> &EnvLookup {
        &self.env
    }

    /// The command-issued tokens (Vertex) shared by every clone.
    pub(crate) fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// The OS keyring plus the process environment.
    pub fn system() -> Self {
        Credentials::new(
            Arc::new(KeyringStore::new()),
            Arc::new(|name| std::env::var(name).ok()),
        )
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
            .map(Secret::new);
        // Bedrock signs with AWS access keys when there is no API key; they
        // come from the environment or the AWS credentials file the AWS CLI
        // writes (reported as `Env`: both are the user's AWS setup).
        let aws_keys = || provider.kind == ProviderKind::Bedrock && aws_credentials(&*self.env).is_some();
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
    use crate::secrets::{MemoryStore, SecretError};
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
