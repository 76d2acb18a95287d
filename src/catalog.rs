//! The built-in provider catalog: what Switchboard watches with no config file.
//!
//! Status-page facts (hosts, formats, component ids) come from the providers'
//! public pages; see `shared/reference/provider-formats.md`. Components are
//! matched by id where the page's names have changed over time.

use crate::model::{ProviderKind, StatusFormat};

/// A catalog entry, before the user's config is merged over it.
#[derive(Clone, Debug)]
pub(crate) struct CatalogEntry {
    pub(crate) id: &'static str,
    pub(crate) kind: ProviderKind,
    pub(crate) name: &'static str,
    pub(crate) base_url: Option<&'static str>,
    pub(crate) status_page: Option<&'static str>,
    pub(crate) status_format: StatusFormat,
    pub(crate) components: &'static [&'static str],
    pub(crate) api_key_env: Option<&'static str>,
    pub(crate) model: Option<&'static str>,
    /// Cloud kinds only (see `config::CloudSettings`); `None` means "from the
    /// environment at use time".
    pub(crate) region: Option<&'static str>,
    pub(crate) project: Option<&'static str>,
    pub(crate) token_command: Option<&'static str>,
}

/// How Vertex access tokens are obtained by default: the gcloud CLI most users
/// of Claude on Vertex already have (tokens live an hour; see `cloud::google`).
pub(crate) const VERTEX_TOKEN_COMMAND: &str = "gcloud auth print-access-token";

/// Claude's Statuspage. `status.anthropic.com` redirects here.
const CLAUDE_STATUS: &str = "https://status.claude.com";

pub(crate) const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        id: "anthropic",
        kind: ProviderKind::Anthropic,
        name: "Claude API",
        base_url: Some("https://api.anthropic.com"),
        status_page: Some(CLAUDE_STATUS),
        status_format: StatusFormat::Statuspage,
        // "Claude API (api.anthropic.com)"
        components: &["k8w3r06qmzrp"],
        api_key_env: Some("ANTHROPIC_API_KEY"),
        model: Some("claude-sonnet-4-5"),
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "claude-ai",
        kind: ProviderKind::Status,
        name: "claude.ai",
        base_url: None,
        status_page: Some(CLAUDE_STATUS),
        status_format: StatusFormat::Statuspage,
        components: &["rwppv331jlwc"],
        api_key_env: None,
        model: None,
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "claude-code",
        kind: ProviderKind::Status,
        name: "Claude Code",
        base_url: None,
        status_page: Some(CLAUDE_STATUS),
        status_format: StatusFormat::Statuspage,
        components: &["yyzkbfz2thpt"],
        api_key_env: None,
        model: None,
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "openai",
        kind: ProviderKind::Openai,
        name: "OpenAI API",
        base_url: Some("https://api.openai.com/v1"),
        status_page: Some("https://status.openai.com"),
        status_format: StatusFormat::Incidentio,
        // Chat Completions, Responses
        components: &["01JMXBRMFE6N2NNT7DG6XZQ6PW", "01JP8CD9JR3HR6Y7G4Q75N4DVW"],
        api_key_env: Some("OPENAI_API_KEY"),
        model: Some("gpt-4.1"),
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "gemini",
        kind: ProviderKind::Gemini,
        name: "Google Gemini API",
        base_url: Some("https://generativelanguage.googleapis.com"),
        // AI Studio publishes no status feed; the probe decides.
        status_page: None,
        status_format: StatusFormat::None,
        components: &[],
        api_key_env: Some("GEMINI_API_KEY"),
        model: Some("gemini-2.5-flash"),
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "vertex",
        kind: ProviderKind::Vertex,
        name: "Google Vertex AI",
        base_url: None,
        status_page: Some("https://status.cloud.google.com/incidents.json"),
        status_format: StatusFormat::GoogleCloud,
        // Product "Vertex Gemini API"
        components: &["Z0FZJAMvEB4j3NbCJs6B"],
        api_key_env: None,
        model: Some("claude-sonnet-4-5@20250929"),
        region: None,
        project: None,
        token_command: Some(VERTEX_TOKEN_COMMAND),
    },
    CatalogEntry {
        id: "bedrock",
        kind: ProviderKind::Bedrock,
        name: "Amazon Bedrock",
        base_url: None,
        status_page: Some("https://health.aws.amazon.com/public/currentevents"),
        status_format: StatusFormat::AwsHealth,
        // Every region's `bedrock-<region>` service.
        components: &["bedrock"],
        api_key_env: Some("AWS_BEARER_TOKEN_BEDROCK"),
        model: Some("anthropic.claude-sonnet-4-5-20250929-v1:0"),
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "openrouter",
        kind: ProviderKind::OpenaiCompatible,
        name: "OpenRouter",
        base_url: Some("https://openrouter.ai/api/v1"),
        // OnlineOrNot-hosted page without a JSON API.
        status_page: None,
        status_format: StatusFormat::None,
        components: &[],
        api_key_env: Some("OPENROUTER_API_KEY"),
        model: Some("anthropic/claude-sonnet-4.5"),
        region: None,
        project: None,
        token_command: None,
    },
    CatalogEntry {
        id: "ollama",
        kind: ProviderKind::Ollama,
        name: "Ollama (local)",
        base_url: Some("http://127.0.0.1:11434"),
        status_page: None,
        status_format: StatusFormat::None,
        components: &[],
        api_key_env: None,
        model: Some("llama3.2"),
        region: None,
        project: None,
        token_command: None,
    },
];

pub(crate) fn find(id: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.id == id)
}
