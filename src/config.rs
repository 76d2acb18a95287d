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

/// Default dashboard / API / metrics address.
pub const DEFAULT_SERVER_LISTEN: &str = "127.0.0.1:7461";
/// Default failover gateway address.
pub const DEFAULT_GATEWAY_LISTEN: &str = "127.0.0.1:7462";
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
pub struct RawConfig {
    pub use_catalog: Option<bool>,
    pub preferred: Option<String>,
    pub fallback: Option<Vec<String>>,
    pub auto_switch: Option<bool>,
    pub check: RawCheck,
    pub notifications: RawNotifications,
    pub server: RawListen,
    pub gateway: RawGateway,
    pub providers: Vec<RawProvider>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCheck {
    pub interval_secs: Option<u64>,
    pub confirm_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
    pub slow_ms: Option<u64>,
    pub failures_to_open: Option<u32>,
    pub successes_to_close: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawNotifications {
    pub enabled: Option<bool>,
    pub degraded: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawListen {
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawGateway {
    pub enabled: Option<bool>,
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawProvider {
    pub id: Option<String>,
    pub kind: Option<ProviderKind>,
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub status_page: Option<String>,
    pub status_format: Option<StatusFormat>,
    pub components: Option<Vec<String>>,
    pub api_key_env: Option<String>,
    pub model: Option<String>,
    pub enabled: Option<bool>,
    pub region: Option<String>,
    pub project: Option<String>,
    pub token_command: Option<String>,
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
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationConfig {
    pub enabled: bool,
    pub degraded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
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
}

/// Where a cloud-hosted Claude lives and how to get a token for it. Every field
/// is optional: what is unset is filled in at use time from the environment
/// (`AWS_REGION`, `GOOGLE_CLOUD_PROJECT`, ...; see `gateway::bedrock` and
/// `gateway::vertex`), so the config stays pure and testable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloudSettings {
    /// Bedrock: the AWS region. Vertex: the location (`global`, `us-east5`, ...).
    pub region: Option<String>,
    /// Vertex: the Google Cloud project id.
    pub project: Option<String>,
    /// Vertex: the command that prints an access token, already split into
    /// program and arguments (no shell runs it).
    pub token_command: Option<Vec<String>>,
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
}

impl Config {
    /// Reads `path`; a missing file means "all defaults", as DESIGN promises.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
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
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "switchboard").map(|d| d.config_dir().join("config.toml"))
}

fn deserialize(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let key = e
            .span()
            .and_then(|s| key_at(text, s.start))
            .unwrap_or_else(|| "(document)".to_string());
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key,
            message: e.message().trim().to_string(),
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
            key,
            message: message.into(),
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

    fn positive(&self, segs: &[KeySeg], v: Option<u64>, default: u64) -> Result<u64, ConfigError> {
        match v {
            Some(0) => Err(self.error(segs, "must be greater than 0")),
            Some(v) => Ok(v),
            None => Ok(default),
        }
    }
}

impl RawConfig {
    /// Checks every field and merges the providers over the catalog.
    pub fn validate(self, path: &Path, text: &str) -> Result<Config, ConfigError> {
        use KeySeg::Key;
        let v = Validator { path, text };
        let defaults = CheckConfig::default();
        let c = &self.check;
        let check = CheckConfig {
            interval: Duration::from_secs(v.positive(
                &[Key("check"), Key("interval_secs")],
                c.interval_secs,
                defaults.interval.as_secs(),
            )?),
            confirm: Duration::from_secs(v.positive(
                &[Key("check"), Key("confirm_secs")],
                c.confirm_secs,
                defaults.confirm.as_secs(),
            )?),
            timeout: Duration::from_secs(v.positive(
                &[Key("check"), Key("timeout_secs")],
                c.timeout_secs,
                defaults.timeout.as_secs(),
            )?),
            slow: Duration::from_millis(v.positive(
                &[Key("check"), Key("slow_ms")],
                c.slow_ms,
                defaults.slow.as_millis() as u64,
            )?),
            failures_to_open: v.positive(
                &[Key("check"), Key("failures_to_open")],
                c.failures_to_open.map(u64::from),
                u64::from(defaults.failures_to_open),
            )? as u32,
            successes_to_close: v.positive(
                &[Key("check"), Key("successes_to_close")],
                c.successes_to_close.map(u64::from),
                u64::from(defaults.successes_to_close),
            )? as u32,
        };

        let mut providers: Vec<Provider> = if self.use_catalog.unwrap_or(true) {
            catalog::CATALOG.iter().map(from_catalog).collect()
        } else {
            Vec::new()
        };
        for (i, raw) in self.providers.into_iter().enumerate() {
            let segs = |k: &'static str| [Key("providers"), KeySeg::Index(i), Key(k)];
            let id = raw.id.clone().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                v.error(
                    &[Key("providers"), KeySeg::Index(i)],
                    "every [[providers]] entry needs an `id`",
                )
            })?;
            if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(v.error(&segs("id"), format!("{id:?}: use letters, digits, '-' or '_'")));
            }
            let base = match providers.iter().position(|p| p.id == id) {
                Some(pos) => providers.remove(pos),
                None => match catalog::find(&id) {
                    Some(entry) => from_catalog(entry),
                    None => {
                        let kind = raw.kind.ok_or_else(|| {
                            v.error(
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
                        }
                    }
                },
            };
            let base_url = match &raw.base_url {
                Some(u) => Some(v.url(&segs("base_url"), u)?),
                None => base.base_url.clone(),
            };
            let status_page = match (&raw.status_page, raw.status_format) {
                (_, Some(StatusFormat::None)) => None,
                (Some(u), format) => Some(StatusPageConfig {
                    url: v.url(&segs("status_page"), u)?,
                    format: format.unwrap_or(StatusFormat::Detect),
                }),
                (None, Some(format)) => match base.status_page.clone() {
                    Some(sp) => Some(StatusPageConfig { format, ..sp }),
                    None => return Err(v.error(&segs("status_format"), "set `status_page` too")),
                },
                (None, None) => base.status_page.clone(),
            };
            let kind = raw.kind.unwrap_or(base.kind);
            let cloud = CloudSettings {
                region: match &raw.region {
                    Some(r) => Some(v.cloud_name(
                        &segs("region"),
                        kind,
                        CLOUD_KINDS,
                        r,
                        "a region such as \"us-east-1\" or \"global\"",
                    )?),
                    None => base.cloud.region.clone(),
                },
                project: match &raw.project {
                    Some(p) => Some(v.cloud_name(
                        &segs("project"),
                        kind,
                        &[ProviderKind::Vertex],
                        p,
                        "a Google Cloud project id such as \"my-project-123\"",
                    )?),
                    None => base.cloud.project.clone(),
                },
                token_command: match &raw.token_command {
                    Some(c) => Some(v.command(&segs("token_command"), kind, c)?),
                    None => base.cloud.token_command.clone(),
                },
            };
            let provider = Provider {
                kind,
                name: raw.name.unwrap_or(base.name),
                base_url,
                status_page,
                components: raw.components.unwrap_or(base.components),
                api_key_env: raw.api_key_env.or(base.api_key_env),
                model: raw.model.or(base.model),
                enabled: raw.enabled.unwrap_or(base.enabled),
                cloud,
                id,
            };
            if provider.kind != ProviderKind::Status
                && provider.base_url.is_none()
                && !matches!(provider.kind, ProviderKind::Bedrock | ProviderKind::Vertex)
            {
                return Err(v.error(
                    &segs("base_url"),
                    format!("provider {:?} needs a `base_url`", provider.id),
                ));
            }
            if providers.iter().any(|p| p.id == provider.id) {
                return Err(v.error(&segs("id"), format!("provider {:?} is listed twice", provider.id)));
            }
            providers.push(provider);
        }

        let known = |id: &str| providers.iter().any(|p| p.id == id);
        if let Some(p) = &self.preferred {
            if !known(p) {
                return Err(v.error(
                    &[Key("preferred")],
                    format!("unknown provider {p:?}; known: {}", ids(&providers)),
                ));
            }
        }
        let fallback = match self.fallback {
            Some(list) => {
                for (i, id) in list.iter().enumerate() {
                    if !known(id) {
                        return Err(v.error(
                            &[Key("fallback"), KeySeg::Index(i)],
                            format!("unknown provider {id:?}; known: {}", ids(&providers)),
                        ));
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

        Ok(Config {
            path: None,
            preferred: self.preferred.or_else(|| {
                providers
                    .iter()
                    .find(|p| p.enabled && p.kind != ProviderKind::Status)
                    .map(|p| p.id.clone())
            }),
            fallback,
            auto_switch: self.auto_switch.unwrap_or(false),
            check,
            notifications: NotificationConfig {
                enabled: self.notifications.enabled.unwrap_or(true),
                degraded: self.notifications.degraded.unwrap_or(false),
            },
            server_listen: v.listen(
                &[Key("server"), Key("listen")],
                self.server.listen.as_deref(),
                DEFAULT_SERVER_LISTEN,
            )?,
            gateway: GatewayConfig {
                enabled: self.gateway.enabled.unwrap_or(true),
                listen: v.listen(
                    &[Key("gateway"), Key("listen")],
                    self.gateway.listen.as_deref(),
                    DEFAULT_GATEWAY_LISTEN,
                )?,
            },
            providers,
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
    fn new_provider_needs_kind() {
        let msg = parse("[[providers]]\nid = \"x\"\nbase_url = \"http://a\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("needs a `kind`"), "{msg}");
    }
}
