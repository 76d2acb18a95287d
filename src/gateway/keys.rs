//! Upstream keys for gateway requests, read from the keyring (or the env var)
//! and kept for a few seconds: a Secret Service lookup is a D-Bus round trip
//! that would otherwise sit in front of every request. Once a key is a few
//! seconds old it is read again behind the requests that keep using it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cloud::aws::BedrockAuth;
use crate::config::Provider;
use crate::credentials::Credentials;
use crate::secrets::Secret;
use crate::upstream::bedrock;

/// How long a looked-up key is reused. Short, so a key changed on the
/// dashboard or with `switchboard key set` is picked up within seconds.
pub(crate) const KEY_TTL: Duration = Duration::from_secs(10);

/// How long past [`KEY_TTL`] a key is still handed out while a fresh read
/// runs behind the request, so no request of a busy gateway waits for a
/// D-Bus round trip (or a keyring that hangs). Past it (a gateway left idle)
/// the read comes first again: a key changed meanwhile must not cost the user
/// a request answered 401.
pub(crate) const KEY_STALE_MAX: Duration = Duration::from_secs(60);

pub(crate) struct Keys {
    credentials: Credentials,
    cache: Arc<Mutex<HashMap<String, Entry>>>,
    ttl: Duration,
    stale_max: Duration,
}

#[derive(Clone)]
enum Cached {
    Key(Option<Secret>),
    /// Bedrock's is a key or AWS access keys (env or the shared credentials file).
    Bedrock(Option<BedrockAuth>),
}

struct Entry {
    read_at: Instant,
    value: Cached,
    /// A read behind the requests is under way: no second one.
    refreshing: bool,
}

enum Lookup {
    Fresh(Cached),
    /// Old but usable; `refresh`: this caller starts the read behind it.
    Stale {
        value: Cached,
        refresh: bool,
    },
    Missing,
}

impl Keys {
    pub(crate) fn new(credentials: Credentials) -> Self {
        Keys::with_ages(credentials, KEY_TTL, KEY_STALE_MAX)
    }

    fn with_ages(credentials: Credentials, ttl: Duration, stale_max: Duration) -> Self {
        Keys {
            credentials,
            cache: Arc::default(),
            ttl,
            stale_max,
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The key for `provider`, `None` when it has none (or needs none).
    pub(crate) async fn get(&self, provider: &Provider) -> Option<Secret> {
        let read = |credentials: Credentials, provider: Provider| async move {
            Cached::Key(credentials.resolve(&provider).await.secret)
        };
        match self.fetch(provider, |c| matches!(c, Cached::Key(_)), read).await {
            Cached::Key(key) => key,
            Cached::Bedrock(_) => None,
        }
    }

    /// Bedrock's credential, with the same reuse.
    pub(crate) async fn bedrock(&self, provider: &Provider) -> Option<BedrockAuth> {
        let read = |credentials: Credentials, provider: Provider| async move {
            Cached::Bedrock(bedrock::resolve_auth(&provider, &credentials).await)
        };
        match self
            .fetch(provider, |c| matches!(c, Cached::Bedrock(_)), read)
            .await
        {
            Cached::Bedrock(auth) => auth,
            Cached::Key(_) => None,
        }
    }

    /// The cached value when fresh; when stale, the cached value now and a
    /// read behind it; otherwise a read first. `kind` says which cached
    /// values answer (a provider id whose kind changed reads again).
    async fn fetch<F, Fut>(&self, provider: &Provider, kind: fn(&Cached) -> bool, read: F) -> Cached
    where
        F: Fn(Credentials, Provider) -> Fut,
        Fut: std::future::Future<Output = Cached> + Send + 'static,
    {
        match self.lookup(&provider.id, kind) {
            Lookup::Fresh(value) => return value,
            Lookup::Stale { value, refresh } => {
                if refresh {
                    let reading = read(self.credentials.clone(), provider.clone());
                    let cache = self.cache.clone();
                    let id = provider.id.clone();
                    tokio::spawn(async move { store(&cache, id, reading.await) });
                }
                return value;
            }
            Lookup::Missing => {}
        }
        let value = read(self.credentials.clone(), provider.clone()).await;
        store(&self.cache, provider.id.clone(), value.clone());
        value
    }

    fn lookup(&self, id: &str, kind: fn(&Cached) -> bool) -> Lookup {
        let Ok(mut cache) = self.cache.lock() else {
            return Lookup::Missing;
        };
        let Some(entry) = cache.get_mut(id).filter(|e| kind(&e.value)) else {
            return Lookup::Missing;
        };
        let age = entry.read_at.elapsed();
        if age < self.ttl {
            Lookup::Fresh(entry.value.clone())
        } else if age < self.ttl + self.stale_max {
            let refresh = !entry.refreshing;
            entry.refreshing = true;
            Lookup::Stale {
                value: entry.value.clone(),
                refresh,
            }
        } else {
            Lookup::Missing
        }
    }

    /// Forgets `id`'s key, after the provider rejected it (it may have just been replaced).
    pub(crate) fn invalidate(&self, id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(id);
        }
    }
}

fn store(cache: &Mutex<HashMap<String, Entry>>, id: String, value: Cached) {
    if let Ok(mut cache) = cache.lock() {
        let entry = Entry {
            read_at: Instant::now(),
            value,
            refreshing: false,
        };
        cache.insert(id, entry);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Condvar;

    use super::*;
    use crate::secrets::{SecretError, SecretStore};

    /// A keyring whose reads wait until it is opened (a D-Bus round trip
    /// that takes as long as the test wants), and that counts them.
    #[derive(Default)]
    struct Gated {
        key: Mutex<String>,
        open: Mutex<bool>,
        opened: Condvar,
        reads: AtomicUsize,
    }

    impl Gated {
        fn set_open(&self, open: bool) {
            *self.open.lock().unwrap() = open;
            self.opened.notify_all();
        }
    }

    impl SecretStore for Gated {
        fn get(&self, _id: &str) -> Result<Option<Secret>, SecretError> {
            // Bounded, so a failing test ends instead of hanging on this thread.
            let (open, _) = self
                .opened
                .wait_timeout_while(self.open.lock().unwrap(), Duration::from_secs(15), |open| !*open)
                .unwrap();
            if !*open {
                return Err(SecretError::Other("the test keyring stayed closed".into()));
            }
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(Secret::new(self.key.lock().unwrap().as_str())))
        }

        fn set(&self, _id: &str, secret: &Secret) -> Result<(), SecretError> {
            *self.key.lock().unwrap() = secret.expose().to_string();
            Ok(())
        }

        fn delete(&self, _id: &str) -> Result<bool, SecretError> {
            Ok(false)
        }
    }

    fn anthropic() -> Provider {
        let text = "use_catalog = false\n[[providers]]\nid = \"anthropic\"\nkind = \"anthropic\"\n";
        crate::config::Config::parse(text, std::path::Path::new("/x.toml"))
            .expect("valid test config")
            .providers
            .remove(0)
    }

    /// Keys over an open keyring holding `sk-old`, read once; then the
    /// keyring holds `sk-new`.
    async fn primed(ttl_ms: u64, stale_max_ms: u64) -> (Arc<Gated>, Keys, Provider) {
        let store = Arc::new(Gated::default());
        store.set("anthropic", &Secret::new("sk-old")).unwrap();
        store.set_open(true);
        let credentials = Credentials::new(store.clone(), Arc::new(|_| None));
        let keys = Keys::with_ages(
            credentials,
            Duration::from_millis(ttl_ms),
            Duration::from_millis(stale_max_ms),
        );
        let p = anthropic();
        assert_eq!(key_text(keys.get(&p).await), "sk-old");
        assert_eq!(store.reads.load(Ordering::SeqCst), 1);
        store.set("anthropic", &Secret::new("sk-new")).unwrap();
        (store, keys, p)
    }

    fn key_text(key: Option<Secret>) -> String {
        key.map(|k| k.expose().to_string()).unwrap_or_default()
    }

    /// A stale key is handed out at once while one read runs behind it, and
    /// the read's key is the next one handed out.
    #[tokio::test]
    async fn a_stale_key_answers_at_once_and_one_read_behind_it_brings_the_new_one() {
        let (store, keys, p) = primed(300, 60_000).await;
        // The keyring now answers only when opened.
        store.set_open(false);
        tokio::time::sleep(Duration::from_millis(350)).await;
        for _ in 0..5 {
            // A read in front of the request would wait for the closed
            // keyring forever; the deadline only turns that into a failure.
            let key = tokio::time::timeout(Duration::from_secs(10), keys.get(&p))
                .await
                .expect("a stale key answers without waiting for the keyring");
            assert_eq!(key_text(key), "sk-old");
        }
        store.set_open(true);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let key = key_text(keys.get(&p).await);
            if key == "sk-new" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the read behind never landed: still {key}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            store.reads.load(Ordering::SeqCst),
            2,
            "five stale answers started one read, not five"
        );
    }

    /// Past the stale window (an idle gateway) the read comes first again,
    /// so a key replaced meanwhile is the one used.
    #[tokio::test]
    async fn a_key_past_the_stale_window_is_read_before_the_request() {
        let (store, keys, p) = primed(20, 20).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(key_text(keys.get(&p).await), "sk-new");
        assert_eq!(store.reads.load(Ordering::SeqCst), 2);
    }

    /// A key the provider rejected is read again before the next request.
    #[tokio::test]
    async fn an_invalidated_key_is_read_before_the_next_request() {
        let (_store, keys, p) = primed(60_000, 60_000).await;
        assert_eq!(key_text(keys.get(&p).await), "sk-old", "fresh: reused");
        keys.invalidate("anthropic");
        assert_eq!(key_text(keys.get(&p).await), "sk-new");
    }
}
