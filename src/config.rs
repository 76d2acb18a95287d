//! Configuration: the TOML file, merged field by field over the built-in catalog.
//!
//! Two stages, so that nothing downstream handles half-checked input: serde reads
//! a `Raw*` tree where every key is optional, then [`RawConfig::validate`] builds
//! the typed [`Config`] the engine uses. Errors name the file, line and key.
//! Writing the config back (`prefer`) lives in `config_edit`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::catalog::{self, CatalogEntry};
use crate::model::{ProviderKind, StatusFormat};
use crate::text::ellipsize;

/// Default dashboard / API / metrics address.
pub(crate) const DEFAULT_SERVER_LISTEN: &str = "127.0.0.1:7461";
/// Default failover gateway address.
pub(crate) const DEFAULT_GATEWAY_LISTEN: &str = "127.0.0.1:7462";
/// Longest `[check] interval_secs`: a day. Rarer checks are not monitoring.
const MAX_INTERVAL_SECS: u64 = 86_400;
/// Longest `[check] confirm_secs`: an hour (a confirmation is a quick re-probe).
const MAX_CONFIRM_SECS: u64 = 3_600;
/// Longest `[check] timeout_secs`: ten minutes, beyond any real probe.
const MAX_TIMEOUT_SECS: u64 = 600;
/// Largest `[check] slow_ms`: ten minutes, like the timeout.
const MAX_SLOW_MS: u64 = 600_000;
/// Longest `[gateway]` timeout: a day (a generation never takes longer).
const MAX_GATEWAY_TIMEOUT_SECS: u64 = 86_400;
/// Largest `failures_to_open` / `successes_to_close`.
const MAX_STREAK: u64 = 1_000;
/// Largest `[check] window_checks` (and so `window_failures`): the samples
/// are kept per model, in memory.
const MAX_WINDOW_CHECKS: u64 = 100;
/// Longest `[check] window_secs`: a day; failures further apart are no incident.
const MAX_WINDOW_SECS: u64 = 86_400;
/// Most `[[providers]]` entries (each is probed every round).
const MAX_PROVIDERS: usize = 64;
/// Most status-page components per provider.
const MAX_COMPONENTS: usize = 64;
/// Longest provider id (it is a keyring account name and a metrics label).
const MAX_ID_LEN: usize = 64;
/// Shortest `[gateway] token` accepted: anything shorter is guessable.
const MIN_GATEWAY_TOKEN_LEN: usize = 16;
/// Longest key path and message in a config error: both can echo the file's
/// text (a 5 MiB value, a 10 MiB key), and the error reaches the log, the
/// terminal and the dashboard. Real ones are under 100 characters.
const MAX_ERROR_KEY_CHARS: usize = 200;
const MAX_ERROR_MESSAGE_CHARS: usize = 500;
/// Largest config file read. The biggest sensible one (64 providers with every
/// key) is ~50 KiB; past this the parser's memory (tens of times the text for
/// deeply nested input) is not worth spending on a file nobody wrote by hand.
const MAX_CONFIG_BYTES: usize = 512 * 1024;
/// Kinds that read `region`.
const CLOUD_KINDS: &[ProviderKind] = &[ProviderKind::Bedrock, ProviderKind::Vertex];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}{}: key `{key}`: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        message: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) use_catalog: Option<bool>,
    pub(crate) preferred: Option<String>,
    pub(crate) fallback: Option<Vec<String>>,
    pub(crate) auto_switch: Option<bool>,
    pub(crate) check: RawCheck,
    pub(crate) notifications: RawNotifications,
    pub(crate) server: RawListen,
    pub(crate) gateway: RawGateway,
    pub(crate) passive: RawPassive,
    pub(crate) inference: RawInference,
    pub(crate) providers: Vec<RawProvider>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawInference {
    pub(crate) enabled: Option<bool>,
    pub(crate) interval_secs: Option<u64>,
    pub(crate) monthly_budget_usd: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawPassive {
    pub(crate) claude_code: Option<bool>,
    pub(crate) codex: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) interval_secs: Option<u64>,
    pub(crate) confirm_secs: Option<u64>,
    pub(crate) timeout_secs: Option<u64>,
    pub(crate) slow_ms: Option<u64>,
    pub(crate) failures_to_open: Option<u32>,
    pub(crate) successes_to_close: Option<u32>,
    pub(crate) window_failures: Option<u32>,
    pub(crate) window_checks: Option<u32>,
    pub(crate) window_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawNotifications {
    pub(crate) enabled: Option<bool>,
    pub(crate) degraded: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawListen {
    pub(crate) listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawGateway {
    pub(crate) enabled: Option<bool>,
    pub(crate) listen: Option<String>,
    pub(crate) headers_timeout_secs: Option<u64>,
    pub(crate) idle_timeout_secs: Option<u64>,
    pub(crate) total_timeout_secs: Option<u64>,
    pub(crate) allowed_origins: Option<Vec<String>>,
    pub(crate) token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RawProvider {
    pub(crate) id: Option<String>,
    pub(crate) kind: Option<ProviderKind>,
    pub(crate) name: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) status_page: Option<String>,
    pub(crate) status_format: Option<StatusFormat>,
    pub(crate) components: Option<Vec<String>>,
    pub(crate) api_key_env: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) enabled: Option<bool>,
    pub(crate) region: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) token_command: Option<String>,
    pub(crate) failover_on_quota: Option<bool>,
    pub(crate) models: Option<Vec<String>>,
    pub(crate) price_in_per_mtok: Option<f64>,
    pub(crate) price_out_per_mtok: Option<f64>,
}

/// The checked configuration the engine runs on.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file this came from (`prefer` writes back to it).
    pub path: Option<PathBuf>,
    pub preferred: Option<String>,
    pub fallback: Vec<String>,
    pub auto_switch: bool,
    pub check: CheckConfig,
    pub notifications: NotificationConfig,
    pub server_listen: SocketAddr,
    pub gateway: GatewayConfig,
    /// Which coding agents' session logs to read for API errors (off by default:
    /// they are the user's files, read only with consent).
    pub passive: PassiveConfig,
    /// `[inference]`: tiny real generations per model, within a monthly budget.
    pub inference: InferenceConfig,
    /// Enabled and disabled providers, catalog order first, then the file's additions.
    pub providers: Vec<Provider>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckConfig {
    pub interval: Duration,
    pub confirm: Duration,
    pub timeout: Duration,
    pub slow: Duration,
    pub failures_to_open: u32,
    pub successes_to_close: u32,
    /// Error-rate rule: this many failing of the last `window_checks` checks
    /// (per model) within `window` begin an outage too. Catches "elevated
    /// errors" (every other call failing), which never makes a streak.
    pub window_failures: u32,
    pub window_checks: u32,
    pub window: Duration,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            interval: Duration::from_secs(60),
            confirm: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            slow: Duration::from_millis(8000),
            failures_to_open: 2,
            successes_to_close: 2,
            // 3 of 5: an alternating 50 % error rate opens on its third
            // failure (five checks), a single blip (1 of 5) or two (2 of 5,
            // a 40 % rate spread evenly) do not; 15 minutes holds five
            // checks at the default minute with room for a stretched schedule.
            window_failures: 3,
            window_checks: 5,
            window: Duration::from_secs(900),
        }
    }
}

/// `[inference]`: see `crate::probe::inference`. Off by default: every
/// check is a real (1-token) request the user pays for.
#[derive(Clone, Debug, PartialEq)]
pub struct InferenceConfig {
    pub enabled: bool,
    /// At most this often per model; stretched to stay inside the budget.
    pub interval: Duration,
    /// For all inference checks together, per calendar month (UTC).
    pub monthly_budget_usd: f64,
}

/// Default `[inference].interval_secs`: the probes' own cadence.
pub(crate) const DEFAULT_INFERENCE_INTERVAL_SECS: u64 = 60;
/// Default `[inference].monthly_budget_usd`.
pub(crate) const DEFAULT_INFERENCE_BUDGET_USD: f64 = 1.0;
/// Largest accepted monthly budget: a typo (10000 for 1.0) must not become a bill.
pub(crate) const MAX_INFERENCE_BUDGET_USD: f64 = 1000.0;
/// Most models one provider may list in `models`.
pub(crate) const MAX_MODELS: usize = 16;

impl Default for InferenceConfig {
    fn default() -> Self {
        InferenceConfig {
            enabled: false,
            interval: Duration::from_secs(DEFAULT_INFERENCE_INTERVAL_SECS),
            monthly_budget_usd: DEFAULT_INFERENCE_BUDGET_USD,
        }
    }
}

/// A per-provider price override, US dollars per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PriceOverride {
    pub(crate) input_per_mtok: Option<f64>,
    pub(crate) output_per_mtok: Option<f64>,
}

/// Prices are validated finite (never NaN), so equality is total.
impl Eq for PriceOverride {}

/// `[passive]`: see `crate::passive`.
pub(crate) type PassiveConfig = crate::model::PassiveSettings;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationConfig {
    pub(crate) enabled: bool,
    pub(crate) degraded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayConfig {
    pub(crate) enabled: bool,
    pub(crate) listen: SocketAddr,
    /// Web origins (`scheme://host[:port]`, lowercase) whose pages may call
    /// the gateway. Empty by default: a request from any web page is refused,
    /// so a site the user visits cannot spend their credits.
    pub(crate) allowed_origins: Vec<String>,
    /// When set, clients must present it (`Authorization: Bearer` or
    /// `x-api-key`). It only opens the gateway; the upstream keys still come
    /// from the keyring.
    pub(crate) token: Option<GatewayToken>,
    /// A streamed request's longest wait for an upstream's response headers;
    /// past it the provider is abandoned (nothing reached the client yet) and
    /// the next one tried. Streams answer headers at once when healthy.
    pub(crate) headers_timeout: Duration,
    /// Longest silence inside a stream (Anthropic pings every ~10 s).
    pub(crate) idle_timeout: Duration,
    /// Longest a whole upstream exchange may take: a non-streamed answer
    /// (its headers come only with the finished generation), or a stream.
    pub(crate) total_timeout: Duration,
}

/// Default `[gateway] headers_timeout_secs`.
pub(crate) const DEFAULT_HEADERS_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `[gateway] idle_timeout_secs`.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default `[gateway] total_timeout_secs`: long generations (64k tokens) run
/// for many minutes.
pub(crate) const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(1800);

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            enabled: true,
            listen: DEFAULT_GATEWAY_LISTEN.parse().expect("a valid default address"),
            headers_timeout: DEFAULT_HEADERS_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            allowed_origins: Vec::new(),
            token: None,
        }
    }
}

/// The optional `[gateway] token`. `Debug` is redacted so it cannot leak
/// through logs or panics.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct GatewayToken(String);

impl GatewayToken {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for GatewayToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatewayToken(<redacted>)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusPageConfig {
    pub url: Url,
    pub format: StatusFormat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub kind: ProviderKind,
    pub name: String,
    pub base_url: Option<Url>,
    pub status_page: Option<StatusPageConfig>,
    pub components: Vec<String>,
    pub api_key_env: Option<String>,
    pub model: Option<String>,
    pub enabled: bool,
    /// Settings only the cloud kinds (`bedrock`, `vertex`) read.
    pub cloud: CloudSettings,
    /// The gateway moves on to the next provider when this one answers 402
    /// (billing) or 429 (quota, rate limit) before any byte was sent.
    /// `false`: those answers go to the client, as before.
    pub failover_on_quota: bool,
    /// The models the user relies on (`models`; empty: `[model]`). See
    /// [`Provider::watched_models`].
    pub models: Vec<String>,
    /// `price_in_per_mtok`, `price_out_per_mtok` for the inference checks' spend.
    pub prices: PriceOverride,
}

/// Where a cloud-hosted Claude lives and how to get a token for it. Every field
/// is optional: what is unset is filled in at use time from the environment
/// (`AWS_REGION`, `GOOGLE_CLOUD_PROJECT`, ...; see `gateway::bedrock` and
/// `gateway::vertex`), so the config stays pure and testable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloudSettings {
    /// Bedrock: the AWS region. Vertex: the location (`global`, `us-east5`, ...).
    pub(crate) region: Option<String>,
    /// Vertex: the Google Cloud project id.
    pub(crate) project: Option<String>,
    /// Vertex: the command that prints an access token, already split into
    /// program and arguments (no shell runs it).
    pub(crate) token_command: Option<Vec<String>>,
}

impl Provider {
    /// Whether probing this provider needs a credential. An OpenAI-compatible
    /// server without `api_key_env` (a local llama.cpp) is probed without one.
    pub fn needs_key(&self) -> bool {
        match self.kind {
            ProviderKind::Ollama | ProviderKind::Status => false,
            ProviderKind::OpenaiCompatible => self.api_key_env.is_some(),
            _ => true,
        }
    }

    /// The models the user relies on, as configured: `models`, else `[model]`.
    /// (Models seen in gateway traffic are added by the engine.)
    pub fn watched_models(&self) -> Vec<String> {
        if !self.models.is_empty() {
            return self.models.clone();
        }
        self.model.iter().cloned().collect()
    }
}

impl Config {
    /// Reads `path`; a missing file means "all defaults", as DESIGN promises.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) if text.len() > MAX_CONFIG_BYTES => Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: None,
                key: "(document)".to_string(),
                message: format!(
                    "the file is {} bytes; a config is at most {} KiB",
                    text.len(),
                    MAX_CONFIG_BYTES / 1024
                ),
            }),
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut cfg = RawConfig::default()
                    .validate(path, "")
                    .expect("the empty config is valid");
                cfg.path = Some(path.to_path_buf());
                Ok(cfg)
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses config text; `path` is used in error messages and remembered for writes.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = deserialize(text, path)?;
        let mut cfg = raw.validate(path, text)?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    pub fn enabled_providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.iter().filter(|p| p.enabled)
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }
}

/// The config file to use: the one given (`--config` or `SWITCHBOARD_CONFIG`,
/// which clap folds together), else the default location. Shared by the CLI and
/// the desktop app so both read the same file.
pub fn resolve_path(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(default_path)
}

/// The default config location: `$XDG_CONFIG_HOME/switchboard/config.toml`.
pub(crate) fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "switchboard").map(|d| d.config_dir().join("config.toml"))
}

fn deserialize(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let key = e
            .span()
            .and_then(|s| key_at(text, s.start))
            .unwrap_or_else(|| "(document)".to_string());
        let mut message = e.message().trim().to_string();
        if e.span().is_some_and(|s| table_header_at(text, s.start).is_some()) {
            message = message.replacen("unknown field", "unknown table", 1);
        }
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key: ellipsize(&key, MAX_ERROR_KEY_CHARS),
            message: ellipsize(&message, MAX_ERROR_MESSAGE_CHARS),
        }
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The dotted key whose value sits at `offset`, found through toml_edit's spans,
/// falling back to the text left of `=` on that line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_text = text[line_start..].lines().next().unwrap_or("");
    // The error is about a table header itself (an unknown `[inferenc]`):
    // name that table, not the one above it.
    if let Some(name) = table_header_at(text, offset) {
        return Some(name);
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = line_text.split_once('=').map(|(k, _)| k.trim().to_string());
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(t), None) => Some(t),
        (None, None) => None,
    }
}

/// The table named by a `[table]` or `[[table]]` header on the line of `offset`.
fn table_header_at(text: &str, offset: usize) -> Option<String> {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let header = line_text.trim_start().strip_prefix('[')?;
    let name = header
        .trim_start_matches('[')
        .split(']')
        .next()
        .unwrap_or("")
        .trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Finds the line of a key path (`providers[2].kind` style) for validation errors.
fn line_of_key(text: &str, path: &[KeySeg]) -> Option<usize> {
    let doc = toml_edit::Document::parse(text.to_string()).ok()?;
    let mut item: &toml_edit::Item = doc.as_item();
    let mut span = None;
    for seg in path {
        item = match seg {
            KeySeg::Key(k) => {
                let (key, value) = item.as_table_like()?.get_key_value(k)?;
                span = key.span().or(span);
                value
            }
            KeySeg::Index(i) => {
                let value = item.get(*i)?;
                span = value.span().or(span);
                value
            }
        };
    }
    span.map(|s| line_of(text, s.start))
}

enum KeySeg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn error(&self, segs: &[KeySeg], message: impl Into<String>) -> ConfigError {
        let key = segs
            .iter()
            .map(|s| match s {
                KeySeg::Key(k) => format!(".{k}"),
                KeySeg::Index(i) => format!("[{i}]"),
            })
            .collect::<String>()
            .trim_start_matches('.')
            .to_string();
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: line_of_key(self.text, segs),
            key: ellipsize(&key, MAX_ERROR_KEY_CHARS),
            message: ellipsize(&message.into(), MAX_ERROR_MESSAGE_CHARS),
        }
    }

    fn url(&self, segs: &[KeySeg], raw: &str) -> Result<Url, ConfigError> {
        let url = Url::parse(raw).map_err(|e| self.error(segs, format!("not a URL ({e}): {raw:?}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(self.error(segs, format!("must be an http or https URL, got {raw:?}")));
        }
        Ok(url)
    }

    fn listen(&self, segs: &[KeySeg], raw: Option<&str>, default: &str) -> Result<SocketAddr, ConfigError> {
        let raw = raw.unwrap_or(default);
        raw.parse()
            .map_err(|_| self.error(segs, format!("expected an address like {default:?}, got {raw:?}")))
    }

    /// A region or project id: it ends up in a host name or a URL path, so only
    /// the characters those ids use are accepted. Also refuses the key on kinds
    /// that would silently ignore it.
    fn cloud_name(
        &self,
        segs: &[KeySeg],
        kind: ProviderKind,
        kinds: &[ProviderKind],
        raw: &str,
        expected: &str,
    ) -> Result<String, ConfigError> {
        self.cloud_only(segs, kind, kinds)?;
        let value = raw.trim();
        let ok = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'));
        if !ok {
            return Err(self.error(segs, format!("expected {expected}, got {raw:?}")));
        }
        Ok(value.to_string())
    }

    /// A command line, split the way a POSIX shell would (quotes, escapes) but
    /// run without one.
    fn command(&self, segs: &[KeySeg], kind: ProviderKind, raw: &str) -> Result<Vec<String>, ConfigError> {
        self.cloud_only(segs, kind, &[ProviderKind::Vertex])?;
        let words = shell_words::split(raw)
            .map_err(|e| self.error(segs, format!("cannot split {raw:?} into a command: {e}")))?;
        if words.is_empty() {
            return Err(self.error(
                segs,
                "must name a command, e.g. \"gcloud auth print-access-token\"",
            ));
        }
        Ok(words)
    }

    fn cloud_only(
        &self,
        segs: &[KeySeg],
        kind: ProviderKind,
        kinds: &[ProviderKind],
    ) -> Result<(), ConfigError> {
        if kinds.contains(&kind) {
            return Ok(());
        }
        let names = kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ");
        Err(self.error(
            segs,
            format!(
                "only used by kind {names}; this provider is kind {}",
                kind.as_str()
            ),
        ))
    }

    fn gateway(&self, raw: &RawGateway) -> Result<GatewayConfig, ConfigError> {
        use KeySeg::{Index, Key};
        let gateway_secs = |key, v, default: Duration| {
            self.bounded(
                &[Key("gateway"), Key(key)],
                v,
                default.as_secs(),
                MAX_GATEWAY_TIMEOUT_SECS,
                " seconds",
            )
            .map(Duration::from_secs)
        };
        let mut allowed_origins = Vec::new();
        for (i, origin) in raw.allowed_origins.iter().flatten().enumerate() {
            let segs = [Key("gateway"), Key("allowed_origins"), Index(i)];
            allowed_origins.push(self.origin(&segs, origin)?);
        }
        let token = match &raw.token {
            None => None,
            Some(t) => {
                let t = t.trim();
                if t.len() < MIN_GATEWAY_TOKEN_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(self.error(
                        &[Key("gateway"), Key("token")],
                        format!(
                            "must be at least {MIN_GATEWAY_TOKEN_LEN} printable characters without spaces \
                             (it is sent in an HTTP header)"
                        ),
                    ));
                }
                Some(GatewayToken(t.to_string()))
            }
        };
        Ok(GatewayConfig {
            enabled: raw.enabled.unwrap_or(true),
            listen: self.listen(
                &[Key("gateway"), Key("listen")],
                raw.listen.as_deref(),
                DEFAULT_GATEWAY_LISTEN,
            )?,
            headers_timeout: gateway_secs(
                "headers_timeout_secs",
                raw.headers_timeout_secs,
                DEFAULT_HEADERS_TIMEOUT,
            )?,
            idle_timeout: gateway_secs("idle_timeout_secs", raw.idle_timeout_secs, DEFAULT_IDLE_TIMEOUT)?,
            total_timeout: gateway_secs(
                "total_timeout_secs",
                raw.total_timeout_secs,
                DEFAULT_TOTAL_TIMEOUT,
            )?,
            allowed_origins,
            token,
        })
    }

    /// A web origin as browsers send it in `Origin`: scheme, host and port, nothing else.
    fn origin(&self, segs: &[KeySeg], raw: &str) -> Result<String, ConfigError> {
        let bad = || {
            self.error(
                segs,
                format!("expected a web origin like \"http://localhost:3000\" (no path), got {raw:?}"),
            )
        };
        let url = Url::parse(raw.trim()).map_err(|_| bad())?;
        let has_path = !matches!(url.path(), "" | "/");
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || has_path
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(bad());
        }
        Ok(url.origin().ascii_serialization())
    }

    /// A count or duration within `[1, max]`: 0 would stop the schedule or
    /// the streaks, and a huge value overflows the clock arithmetic
    /// (`Instant + Duration`) that runs on it.
    fn bounded(
        &self,
        segs: &[KeySeg],
        v: Option<u64>,
        default: u64,
        max: u64,
        unit: &str,
    ) -> Result<u64, ConfigError> {
        match v {
            None => Ok(default),
            Some(0) => Err(self.error(segs, "must be greater than 0")),
            Some(v) if v > max => Err(self.error(segs, format!("must be at most {max}{unit}, got {v}"))),
            Some(v) => Ok(v),
        }
    }

    /// `[check]`: every duration and count bounded (see the `MAX_*` constants).
    fn check(&self, c: &RawCheck) -> Result<CheckConfig, ConfigError> {
        use KeySeg::Key;
        let d = CheckConfig::default();
        let secs = |key, v, default: Duration, max| {
            self.bounded(&[Key("check"), Key(key)], v, default.as_secs(), max, " seconds")
                .map(Duration::from_secs)
        };
        let count = |key, v: Option<u32>, default: u32| {
            self.bounded(
                &[Key("check"), Key(key)],
                v.map(u64::from),
                u64::from(default),
                MAX_STREAK,
                "",
            )
            // Bounded by MAX_STREAK, which fits a u32.
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        let window = |key, v: Option<u32>, default: u32| {
            self.bounded(
                &[Key("check"), Key(key)],
                v.map(u64::from),
                u64::from(default),
                MAX_WINDOW_CHECKS,
                "",
            )
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        Ok(CheckConfig {
            interval: secs("interval_secs", c.interval_secs, d.interval, MAX_INTERVAL_SECS)?,
            confirm: secs("confirm_secs", c.confirm_secs, d.confirm, MAX_CONFIRM_SECS)?,
            timeout: secs("timeout_secs", c.timeout_secs, d.timeout, MAX_TIMEOUT_SECS)?,
            slow: Duration::from_millis(self.bounded(
                &[Key("check"), Key("slow_ms")],
                c.slow_ms,
                d.slow.as_millis() as u64,
                MAX_SLOW_MS,
                " ms",
            )?),
            failures_to_open: count("failures_to_open", c.failures_to_open, d.failures_to_open)?,
            successes_to_close: count("successes_to_close", c.successes_to_close, d.successes_to_close)?,
            window_failures: window("window_failures", c.window_failures, d.window_failures)?,
            window_checks: window("window_checks", c.window_checks, d.window_checks)?,
            window: secs("window_secs", c.window_secs, d.window, MAX_WINDOW_SECS)?,
        })
        .and_then(|cfg| {
            if cfg.window_failures > cfg.window_checks {
                Err(self.error(
                    &[Key("check"), Key("window_failures")],
                    format!(
                        "must be at most check.window_checks ({}), got {}",
                        cfg.window_checks, cfg.window_failures
                    ),
                ))
            } else {
                Ok(cfg)
            }
        })
    }

    fn notifications(&self, n: &RawNotifications) -> NotificationConfig {
        NotificationConfig {
            enabled: n.enabled.unwrap_or(true),
            degraded: n.degraded.unwrap_or(false),
        }
    }

    /// `[[providers]]`, merged over the catalog (unless `use_catalog = false`).
    fn providers(
        &self,
        use_catalog: Option<bool>,
        raws: Vec<RawProvider>,
    ) -> Result<Vec<Provider>, ConfigError> {
        use KeySeg::{Index, Key};
        if raws.len() > MAX_PROVIDERS {
            return Err(self.error(
                &[Key("providers"), Index(MAX_PROVIDERS)],
                format!(
                    "at most {MAX_PROVIDERS} [[providers]] entries are supported, got {}",
                    raws.len()
                ),
            ));
        }
        let mut providers: Vec<Provider> = if use_catalog.unwrap_or(true) {
            catalog::CATALOG.iter().map(from_catalog).collect()
        } else {
            Vec::new()
        };
        for (i, raw) in raws.into_iter().enumerate() {
            let provider = self.provider(i, raw, &mut providers)?;
            if providers.iter().any(|p| p.id == provider.id) {
                return Err(self.error(
                    &[Key("providers"), Index(i), Key("id")],
                    format!("provider {:?} is listed twice", provider.id),
                ));
            }
            providers.push(provider);
        }
        Ok(providers)
    }

    /// One `[[providers]]` entry, merged over what it overrides (taken out of
    /// `providers`, or the catalog entry of the same id).
    fn provider(
        &self,
        i: usize,
        raw: RawProvider,
        providers: &mut Vec<Provider>,
    ) -> Result<Provider, ConfigError> {
        use KeySeg::{Index, Key};
        let segs = |k: &'static str| [Key("providers"), Index(i), Key(k)];
        let id = raw.id.clone().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            self.error(
                &[Key("providers"), Index(i)],
                "every [[providers]] entry needs an `id`",
            )
        })?;
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            || id.len() > MAX_ID_LEN
        {
            return Err(self.error(
                &segs("id"),
                format!("{id:?}: use letters, digits, '-' or '_' (at most {MAX_ID_LEN})"),
            ));
        }
        let base = match providers.iter().position(|p| p.id == id) {
            Some(pos) => providers.remove(pos),
            None => match catalog::find(&id) {
                Some(entry) => from_catalog(entry),
                None => {
                    let kind = raw.kind.ok_or_else(|| {
                        self.error(
                            &segs("id"),
                            format!("provider {id:?} is not in the catalog, so it needs a `kind`"),
                        )
                    })?;
                    Provider {
                        id: id.clone(),
                        kind,
                        name: id.clone(),
                        base_url: None,
                        status_page: None,
                        components: Vec::new(),
                        api_key_env: None,
                        model: None,
                        enabled: true,
                        cloud: CloudSettings::default(),
                        failover_on_quota: true,
                        models: Vec::new(),
                        prices: PriceOverride::default(),
                    }
                }
            },
        };
        let base_url = match &raw.base_url {
            Some(u) => Some(self.url(&segs("base_url"), u)?),
            None => base.base_url.clone(),
        };
        let status_page = match (&raw.status_page, raw.status_format) {
            (_, Some(StatusFormat::None)) => None,
            (Some(u), format) => Some(StatusPageConfig {
                url: self.url(&segs("status_page"), u)?,
                format: format.unwrap_or(StatusFormat::Detect),
            }),
            (None, Some(format)) => match base.status_page.clone() {
                Some(sp) => Some(StatusPageConfig { format, ..sp }),
                None => return Err(self.error(&segs("status_format"), "set `status_page` too")),
            },
            (None, None) => base.status_page.clone(),
        };
        let kind = raw.kind.unwrap_or(base.kind);
        let cloud = self.cloud(i, &raw, kind, &base.cloud)?;
        let components = raw.components.unwrap_or(base.components);
        if components.len() > MAX_COMPONENTS {
            return Err(self.error(
                &segs("components"),
                format!("at most {MAX_COMPONENTS} components, got {}", components.len()),
            ));
        }
        let models = match raw.models {
            Some(list) => {
                if list.len() > MAX_MODELS {
                    return Err(self.error(
                        &segs("models"),
                        format!("at most {MAX_MODELS} models, got {}", list.len()),
                    ));
                }
                let mut out: Vec<String> = Vec::new();
                for m in list {
                    let m = m.trim().to_string();
                    if m.is_empty() || m.len() > 200 || m.chars().any(char::is_control) {
                        return Err(self.error(&segs("models"), format!("not a model id: {m:?}")));
                    }
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                out
            }
            None => base.models,
        };
        let price = |key: &'static str, v: Option<f64>| match v {
            Some(p) if !(p.is_finite() && (0.0..=10_000.0).contains(&p)) => Err(self.error(
                &segs(key),
                format!("a price in US dollars per million tokens (0 to 10000), got {p}"),
            )),
            other => Ok(other),
        };
        let prices = PriceOverride {
            input_per_mtok: price("price_in_per_mtok", raw.price_in_per_mtok)?.or(base.prices.input_per_mtok),
            output_per_mtok: price("price_out_per_mtok", raw.price_out_per_mtok)?
                .or(base.prices.output_per_mtok),
        };
        let provider = Provider {
            kind,
            name: raw.name.unwrap_or(base.name),
            base_url,
            status_page,
            components,
            api_key_env: raw.api_key_env.or(base.api_key_env),
            model: raw.model.or(base.model),
            enabled: raw.enabled.unwrap_or(base.enabled),
            failover_on_quota: raw.failover_on_quota.unwrap_or(base.failover_on_quota),
            cloud,
            models,
            prices,
            id,
        };
        if provider.kind != ProviderKind::Status
            && provider.base_url.is_none()
            && !matches!(provider.kind, ProviderKind::Bedrock | ProviderKind::Vertex)
        {
            return Err(self.error(
                &segs("base_url"),
                format!("provider {:?} needs a `base_url`", provider.id),
            ));
        }
        Ok(provider)
    }

    /// A provider's `region`, `project` and `token_command`.
    fn cloud(
        &self,
        i: usize,
        raw: &RawProvider,
        kind: ProviderKind,
        base: &CloudSettings,
    ) -> Result<CloudSettings, ConfigError> {
        use KeySeg::{Index, Key};
        let segs = |k: &'static str| [Key("providers"), Index(i), Key(k)];
        Ok(CloudSettings {
            region: match &raw.region {
                Some(r) => Some(self.cloud_name(
                    &segs("region"),
                    kind,
                    CLOUD_KINDS,
                    r,
                    "a region such as \"us-east-1\" or \"global\"",
                )?),
                None => base.region.clone(),
            },
            project: match &raw.project {
                Some(p) => Some(self.cloud_name(
                    &segs("project"),
                    kind,
                    &[ProviderKind::Vertex],
                    p,
                    "a Google Cloud project id such as \"my-project-123\"",
                )?),
                None => base.project.clone(),
            },
            token_command: match &raw.token_command {
                Some(c) => Some(self.command(&segs("token_command"), kind, c)?),
                None => base.token_command.clone(),
            },
        })
    }

    /// `preferred` and `fallback`: known ids only; defaults from the providers.
    fn routing(
        &self,
        preferred: Option<String>,
        fallback: Option<Vec<String>>,
        providers: &[Provider],
    ) -> Result<(Option<String>, Vec<String>), ConfigError> {
        use KeySeg::{Index, Key};
        let known = |id: &str| providers.iter().any(|p| p.id == id);
        if let Some(p) = &preferred {
            if !known(p) {
                return Err(self.error(
                    &[Key("preferred")],
                    format!("unknown provider {p:?}; known: {}", ids(providers)),
                ));
            }
        }
        let fallback = match fallback {
            Some(list) => {
                for (i, id) in list.iter().enumerate() {
                    if !known(id) {
                        return Err(self.error(
                            &[Key("fallback"), Index(i)],
                            format!("unknown provider {id:?}; known: {}", ids(providers)),
                        ));
                    }
                    if list[..i].contains(id) {
                        return Err(
                            self.error(&[Key("fallback"), Index(i)], format!("{id:?} is listed twice"))
                        );
                    }
                }
                list
            }
            None => providers
                .iter()
                .filter(|p| p.enabled && p.kind != ProviderKind::Status)
                .map(|p| p.id.clone())
                .collect(),
        };
        let preferred = preferred.or_else(|| {
            providers
                .iter()
                .find(|p| p.enabled && p.kind != ProviderKind::Status)
                .map(|p| p.id.clone())
        });
        Ok((preferred, fallback))
    }
}

impl RawConfig {
    /// Checks every field and merges the providers over the catalog, one
    /// validator per section.
    pub(crate) fn validate(self, path: &Path, text: &str) -> Result<Config, ConfigError> {
        use KeySeg::Key;
        let v = Validator { path, text };
        let check = v.check(&self.check)?;
        let providers = v.providers(self.use_catalog, self.providers)?;
        let (preferred, fallback) = v.routing(self.preferred, self.fallback, &providers)?;
        Ok(Config {
            path: None,
            preferred,
            fallback,
            auto_switch: self.auto_switch.unwrap_or(false),
            check,
            notifications: v.notifications(&self.notifications),
            server_listen: v.listen(
                &[Key("server"), Key("listen")],
                self.server.listen.as_deref(),
                DEFAULT_SERVER_LISTEN,
            )?,
            gateway: v.gateway(&self.gateway)?,
            passive: PassiveConfig {
                claude_code: self.passive.claude_code.unwrap_or(false),
                codex: self.passive.codex.unwrap_or(false),
            },
            inference: v.inference(&self.inference)?,
            providers,
        })
    }
}

impl Validator<'_> {
    /// `[inference]`: interval bounded like `[check]`, budget a sane dollar amount.
    fn inference(&self, raw: &RawInference) -> Result<InferenceConfig, ConfigError> {
        use KeySeg::Key;
        let d = InferenceConfig::default();
        let interval = self.bounded(
            &[Key("inference"), Key("interval_secs")],
            raw.interval_secs,
            DEFAULT_INFERENCE_INTERVAL_SECS,
            MAX_INTERVAL_SECS,
            " seconds",
        )?;
        let budget = match raw.monthly_budget_usd {
            None => d.monthly_budget_usd,
            Some(b) if b.is_finite() && (0.0..=MAX_INFERENCE_BUDGET_USD).contains(&b) => b,
            Some(b) => {
                return Err(self.error(
                    &[Key("inference"), Key("monthly_budget_usd")],
                    format!("must be between 0 and {MAX_INFERENCE_BUDGET_USD} (US dollars), got {b}"),
                ))
            }
        };
        Ok(InferenceConfig {
            enabled: raw.enabled.unwrap_or(false),
            interval: Duration::from_secs(interval),
            monthly_budget_usd: budget,
        })
    }
}

fn ids(providers: &[Provider]) -> String {
    providers
        .iter()
        .map(|p| p.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn from_catalog(e: &CatalogEntry) -> Provider {
    Provider {
        id: e.id.to_string(),
        kind: e.kind,
        name: e.name.to_string(),
        base_url: e.base_url.map(|u| Url::parse(u).expect("catalog URLs are valid")),
        status_page: e.status_page.map(|u| StatusPageConfig {
            url: Url::parse(u).expect("catalog URLs are valid"),
            format: e.status_format,
        }),
        components: e.components.iter().map(|s| s.to_string()).collect(),
        api_key_env: e.api_key_env.map(str::to_string),
        model: e.model.map(str::to_string),
        enabled: true,
        cloud: CloudSettings {
            region: e.region.map(str::to_string),
            project: e.project.map(str::to_string),
            token_command: e
                .token_command
                .map(|c| shell_words::split(c).expect("catalog commands split")),
        },
        failover_on_quota: true,
        models: Vec::new(),
        prices: PriceOverride::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/tmp/config.toml"))
    }

    #[test]
    fn empty_config_is_the_catalog() {
        let cfg = parse("").unwrap();
        let ids: Vec<_> = cfg.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "anthropic",
                "claude-ai",
                "claude-code",
                "openai",
                "gemini",
                "vertex",
                "bedrock",
                "openrouter",
                "ollama"
            ]
        );
        assert_eq!(cfg.preferred.as_deref(), Some("anthropic"));
        assert_eq!(cfg.check, CheckConfig::default());
        assert_eq!(cfg.server_listen.to_string(), DEFAULT_SERVER_LISTEN);
    }

    #[test]
    fn override_is_field_by_field() {
        let cfg = parse(
            r#"
[[providers]]
id = "anthropic"
base_url = "http://127.0.0.1:9000/prefix"
"#,
        )
        .unwrap();
        let p = cfg.provider("anthropic").unwrap();
        assert_eq!(
            p.base_url.as_ref().unwrap().as_str(),
            "http://127.0.0.1:9000/prefix"
        );
        assert_eq!(p.name, "Claude API");
        assert_eq!(p.api_key_env.as_deref(), Some("ANTHROPIC_API_KEY"));
        assert_eq!(p.components, ["k8w3r06qmzrp"]);
    }

    #[test]
    fn use_catalog_false_keeps_only_listed() {
        let cfg = parse(
            r#"
use_catalog = false
[[providers]]
id = "mine"
kind = "openai-compatible"
base_url = "http://127.0.0.1:8080/v1"
"#,
        )
        .unwrap();
        assert_eq!(cfg.providers.len(), 1);
        assert_eq!(cfg.preferred.as_deref(), Some("mine"));
        assert_eq!(cfg.fallback, ["mine"]);
    }

    #[test]
    fn wrong_type_names_file_line_and_key() {
        let err = parse("preferred = \"anthropic\"\n\n[check]\ninterval_secs = \"often\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/tmp/config.toml"), "{msg}");
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("check.interval_secs"), "{msg}");
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let msg = parse("[check]\ninterval_secs = 5\nintervall = 3\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("intervall"), "{msg}");
    }

    /// Issue 11, item 8d: an unknown table was reported as an unknown field
    /// of the table above it (`key `check``).
    #[test]
    fn unknown_table_is_named_as_a_table() {
        let msg = parse("[check]\ninterval_secs = 5\n\n[inferenc]\nenabled = true\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("key `inferenc`"), "{msg}");
        assert!(!msg.contains("key `check"), "{msg}");
        assert!(msg.contains("unknown table `inferenc`"), "{msg}");
        // An array of tables and a nested table are named the same way.
        let msg = parse("preferred = \"anthropic\"\n\n[[provider]]\nid = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 3") && msg.contains("key `provider`"), "{msg}");
        let msg = parse("[check]\ninterval_secs = 5\n[check.extra]\nx = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("line 3") && msg.contains("key `check.extra`"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_preferred_names_line_and_key() {
        let msg = parse("# comment\npreferred = \"nope\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("`preferred`"), "{msg}");
        assert!(msg.contains("anthropic"), "{msg}");
    }

    #[test]
    fn bad_url_in_provider_names_index() {
        let msg = parse("[[providers]]\nid = \"openai\"\nbase_url = \"not a url\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("providers[0].base_url"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn cloud_settings_parse_and_merge_over_the_catalog() {
        let cfg = parse(
            r#"
[[providers]]
id = "bedrock"
region = "eu-west-3"

[[providers]]
id = "vertex"
project = "my-proj-123"
region = "us-east5"
token_command = "gcloud auth print-access-token --account 'me@example.com'"
"#,
        )
        .unwrap();
        let b = cfg.provider("bedrock").unwrap();
        assert_eq!(b.cloud.region.as_deref(), Some("eu-west-3"));
        assert_eq!(b.cloud.project, None);
        let v = cfg.provider("vertex").unwrap();
        assert_eq!(v.cloud.project.as_deref(), Some("my-proj-123"));
        assert_eq!(v.cloud.region.as_deref(), Some("us-east5"));
        assert_eq!(
            v.cloud.token_command.as_deref().unwrap(),
            [
                "gcloud",
                "auth",
                "print-access-token",
                "--account",
                "me@example.com"
            ]
        );
        // Unset keys keep the catalog's: the default command, no region.
        let cfg = parse("").unwrap();
        let v = cfg.provider("vertex").unwrap();
        assert_eq!(
            v.cloud.token_command.as_deref().unwrap(),
            ["gcloud", "auth", "print-access-token"]
        );
        assert_eq!(v.cloud.region, None);
        assert_eq!(cfg.provider("anthropic").unwrap().cloud, CloudSettings::default());
    }

    #[test]
    fn cloud_settings_errors_name_line_and_key() {
        let msg = parse("[[providers]]\nid = \"anthropic\"\nregion = \"us-east-1\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("providers[0].region"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("only used by kind bedrock or vertex"), "{msg}");
        let msg = parse("[[providers]]\nid = \"bedrock\"\nproject = \"p\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("providers[0].project"), "{msg}");
        assert!(msg.contains("only used by kind vertex"), "{msg}");
        let msg = parse("[[providers]]\nid = \"bedrock\"\n\nregion = \"us-east-1/evil\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("us-east-1/evil"), "{msg}");
        let msg = parse("[[providers]]\nid = \"vertex\"\ntoken_command = \"gcloud 'unclosed\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("providers[0].token_command"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        let msg = parse("[[providers]]\nid = \"vertex\"\ntoken_command = \"  \"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("must name a command"), "{msg}");
    }

    #[test]
    fn config_refuses_timeout_that_overflowed_the_engine() {
        // Hot-reloaded, this value panicked the engine ("overflow when adding
        // duration to instant") and left a stale report with no alarm.
        let msg = parse("[check]\ninterval_secs = 60\ntimeout_secs = 9223372036854775807\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("/tmp/config.toml"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("check.timeout_secs"), "{msg}");
        assert!(msg.contains("at most 600"), "{msg}");
        for (key, max) in [
            ("interval_secs", MAX_INTERVAL_SECS),
            ("confirm_secs", MAX_CONFIRM_SECS),
            ("timeout_secs", MAX_TIMEOUT_SECS),
            ("slow_ms", MAX_SLOW_MS),
            ("failures_to_open", MAX_STREAK),
            ("successes_to_close", MAX_STREAK),
            ("window_secs", MAX_WINDOW_SECS),
        ] {
            assert!(
                parse(&format!("[check]\n{key} = {max}\n")).is_ok(),
                "{key} = {max}"
            );
            let msg = parse(&format!("[check]\n{key} = {}\n", max + 1))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains(&format!("check.{key}")) && msg.contains("line 2"),
                "{msg}"
            );
            let msg = parse(&format!("[check]\n{key} = 0\n")).unwrap_err().to_string();
            assert!(msg.contains("greater than 0"), "{msg}");
        }
        // u32 keys out of the u32 range fail at the type, still with line and key.
        let msg = parse("[check]\nfailures_to_open = 99999999999\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("line 2") && msg.contains("failures_to_open"),
            "{msg}"
        );
    }

    /// The error-rate window: both counts within `[1, 100]`, the failures no
    /// more than the checks, each error naming the file, line and key.
    #[test]
    fn config_bounds_the_error_rate_window() {
        let c = parse("[check]\nwindow_failures = 4\nwindow_checks = 6\nwindow_secs = 600\n").unwrap();
        assert_eq!(
            (c.check.window_failures, c.check.window_checks, c.check.window),
            (4, 6, Duration::from_secs(600))
        );
        let d = CheckConfig::default();
        assert_eq!(
            (d.window_failures, d.window_checks, d.window.as_secs()),
            (3, 5, 900)
        );
        for key in ["window_failures", "window_checks"] {
            let msg = parse(&format!("[check]\nslow_ms = 8000\n{key} = 101\n"))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains(&format!("check.{key}"))
                    && msg.contains("line 3")
                    && msg.contains("at most 100"),
                "{msg}"
            );
            let msg = parse(&format!("[check]\n{key} = 0\n")).unwrap_err().to_string();
            assert!(msg.contains("greater than 0") && msg.contains("line 2"), "{msg}");
        }
        let msg = parse("[check]\nwindow_checks = 4\nwindow_failures = 5\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("/tmp/config.toml"), "{msg}");
        assert!(
            msg.contains("line 3")
                && msg.contains("check.window_failures")
                && msg.contains("at most check.window_checks (4), got 5"),
            "{msg}"
        );
    }

    #[test]
    fn config_bounds_counts_of_lists() {
        let mut text = String::from("use_catalog = false\n");
        for i in 0..=MAX_PROVIDERS {
            text.push_str(&format!("[[providers]]\nid = \"p{i}\"\nkind = \"status\"\n"));
        }
        let msg = parse(&text).unwrap_err().to_string();
        assert!(msg.contains("at most 64"), "{msg}");
        let msg = parse("fallback = [\"openai\", \"openai\"]\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("fallback[1]") && msg.contains("twice"), "{msg}");
    }

    #[test]
    fn new_provider_needs_kind() {
        let msg = parse("[[providers]]\nid = \"x\"\nbase_url = \"http://a\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("needs a `kind`"), "{msg}");
    }

    #[test]
    fn gateway_timeouts_and_quota_failover_have_documented_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.gateway, GatewayConfig::default());
        assert_eq!(c.gateway.headers_timeout, Duration::from_secs(30));
        assert!(c.providers.iter().all(|p| p.failover_on_quota));
        let c = parse(
            "[gateway]\nheaders_timeout_secs = 5\nidle_timeout_secs = 60\ntotal_timeout_secs = 900\n\n\
             [[providers]]\nid = \"anthropic\"\nfailover_on_quota = false\n",
        )
        .unwrap();
        assert_eq!(
            (
                c.gateway.headers_timeout,
                c.gateway.idle_timeout,
                c.gateway.total_timeout
            ),
            (
                Duration::from_secs(5),
                Duration::from_secs(60),
                Duration::from_secs(900)
            )
        );
        assert!(!c.provider("anthropic").unwrap().failover_on_quota);
        assert!(c.provider("openai").unwrap().failover_on_quota);
        let msg = parse("[gateway]\nheaders_timeout_secs = 0\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("gateway.headers_timeout_secs"), "{msg}");
    }
}
