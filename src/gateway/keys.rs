//! Upstream keys for gateway requests, read from the keyring (or the env var)
//! and kept for a few seconds: a Secret Service lookup is a D-Bus round trip
//! that would otherwise sit in front of every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cloud::aws::BedrockAuth;
use crate::config::Provider;
use crate::credentials::Credentials;
use crate::secrets::Secret;
use crate::upstream::bedrock;

/// How long a looked-up key is reused. Short, so a key changed on the
/// dashboard or with `switchboard key set` is picked up within seconds.
pub(crate) const KEY_TTL: Duration = Duration::from_secs(10);

pub(crate) struct Keys {
    credentials: Credentials,
    cache: Mutex<HashMap<String, (Instant, Cached)>>,
}

#[derive(Clone)]
enum Cached {
    Key(Option<Secret>),
    /// Bedrock's is a key or AWS access keys (env or the shared credentials file).
    Bedrock(Option<BedrockAuth>),
}

impl Keys {
    pub(crate) fn new(credentials: Credentials) -> Self {
        Keys {
            credentials,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The key for `provider`, `None` when it has none (or needs none).
    pub(crate) async fn get(&self, provider: &Provider) -> Option<Secret> {
        if let Some(Cached::Key(hit)) = self.cached(&provider.id) {
            return hit;
        }
        let secret = self.credentials.resolve(provider).await.secret;
        self.store(&provider.id, Cached::Key(secret.clone()));
        secret
    }

    /// Bedrock's credential, with the same reuse.
    pub(crate) async fn bedrock(&self, provider: &Provider) -> Option<BedrockAuth> {
        if let Some(Cached::Bedrock(hit)) = self.cached(&provider.id) {
            return hit;
        }
        let auth = bedrock::resolve_auth(provider, &self.credentials).await;
        self.store(&provider.id, Cached::Bedrock(auth.clone()));
        auth
    }

    fn store(&self, id: &str, value: Cached) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(id.to_string(), (Instant::now(), value));
        }
    }

    /// Forgets `id`'s key, after the provider rejected it (it may have just been replaced).
    pub(crate) fn invalidate(&self, id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(id);
        }
    }

    fn cached(&self, id: &str) -> Option<Cached> {
        let cache = self.cache.lock().ok()?;
        let (at, secret) = cache.get(id)?;
        (at.elapsed() < KEY_TTL).then(|| secret.clone())
    }
}
