//! Which providers a request may go to, in which order, and how each is spoken to.
//!
//! The order is the user's: the preferred provider, then `fallback`. Health
//! reorders it by `routing::healthiest_first`, the same rule the "Switch to …"
//! notice and the automatic switch use: the preferred stays first unless its
//! calls fail; the others go operational, then rate limited / degraded, then
//! unknown, then failing (outage, rejected key) last, where they are still
//! attempted when everything is reported down (the report may be a minute old).

use crate::config::{Config, Provider};
use crate::model::{State, StatusReport};

use crate::upstream::Protocol;

pub(crate) use crate::upstream::Dialect;

/// One provider a request may be sent to.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) provider: Provider,
    pub(crate) dialect: Dialect,
    /// What the engine said last.
    pub(crate) state: State,
    /// The client's model name is kept only for the preferred provider when it
    /// speaks the client's own protocol (the client chose that model for it);
    /// everywhere else the provider's configured `model` is used.
    pub(crate) keep_client_model: bool,
}

impl Candidate {
    /// The model to ask this provider for.
    pub(crate) fn model<'a>(&'a self, client_model: Option<&'a str>) -> Option<&'a str> {
        if self.keep_client_model {
            client_model.or(self.provider.model.as_deref())
        } else {
            self.provider.model.as_deref().or(client_model)
        }
    }
}

/// The providers to try for a request in `client` protocol, best first.
pub(crate) fn plan(config: &Config, report: &StatusReport, client: Protocol) -> Vec<Candidate> {
    let preferred = config.preferred.as_deref();
    let mut order: Vec<&str> = preferred.into_iter().collect();
    for id in &config.fallback {
        if !order.contains(&id.as_str()) {
            order.push(id);
        }
    }
    let state_of = |id: &str| {
        report
            .providers
            .iter()
            .find(|p| p.id == id)
            .map_or(State::Unknown, |p| p.state)
    };
    let candidates: Vec<Candidate> = order
        .into_iter()
        .filter_map(|id| {
            let provider = config.provider(id).filter(|p| p.enabled)?;
            let dialect = Dialect::of(provider.kind)?;
            Some(Candidate {
                provider: provider.clone(),
                dialect,
                state: state_of(id),
                keep_client_model: Some(id) == preferred
                    && dialect.protocol() == client
                    && dialect != Dialect::Bedrock
                    && dialect != Dialect::Vertex,
            })
        })
        .collect();
    crate::routing::healthiest_first(
        candidates,
        |c| c.state,
        |c| Some(c.provider.id.as_str()) == preferred,
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CONFIG: &str = r#"
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "status", "openai", "ollama"]

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:1"
model = "claude-sonnet-4-5"

[[providers]]
id = "status"
kind = "status"
status_page = "http://127.0.0.1:2"

[[providers]]
id = "openai"
kind = "openai"
base_url = "http://127.0.0.1:3/v1"
model = "gpt-4.1"

[[providers]]
id = "ollama"
kind = "ollama"
base_url = "http://127.0.0.1:4"
model = "llama3.2"
"#;

    fn report(states: &[(&str, State)]) -> StatusReport {
        let json = serde_json::json!({
            "checked_at": "2026-11-24T09:00:00Z", "preferred": "anthropic", "overall": "operational",
            "providers": states.iter().map(|(id, s)| serde_json::json!({
                "id": id, "name": id, "state": s, "since": null, "summary": "",
                "confirmed_by_status_page": false, "probe": null, "status_page": null,
                "credential": "env", "kind": "anthropic"
            })).collect::<Vec<_>>()
        });
        serde_json::from_value(json).unwrap()
    }

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.provider.id.as_str()).collect()
    }

    #[test]
    fn preferred_then_fallback_skipping_status_surfaces() {
        let config = Config::parse(CONFIG, Path::new("/x.toml")).unwrap();
        let plan = plan(&config, &report(&[]), Protocol::Anthropic);
        assert_eq!(ids(&plan), ["anthropic", "openai", "ollama"]);
        assert!(plan[0].keep_client_model);
        assert_eq!(plan[0].model(Some("claude-opus-4-1")), Some("claude-opus-4-1"));
        assert_eq!(plan[1].model(Some("claude-opus-4-1")), Some("gpt-4.1"));
    }

    #[test]
    fn failing_providers_go_last_in_the_users_order() {
        let config = Config::parse(CONFIG, Path::new("/x.toml")).unwrap();
        let r = report(&[
            ("anthropic", State::Outage),
            ("openai", State::AuthError),
            ("ollama", State::Degraded),
        ]);
        assert_eq!(
            ids(&plan(&config, &r, Protocol::OpenAi)),
            ["ollama", "anthropic", "openai"]
        );
    }

    #[test]
    fn client_model_is_kept_only_for_the_preferred_provider_in_its_own_protocol() {
        let config = Config::parse(CONFIG, Path::new("/x.toml")).unwrap();
        let plan = plan(&config, &report(&[]), Protocol::OpenAi);
        assert!(
            !plan[0].keep_client_model,
            "an OpenAI model name means nothing to Anthropic"
        );
        assert_eq!(plan[0].model(Some("gpt-4o")), Some("claude-sonnet-4-5"));
    }

    /// Regression: the gateway used to keep the user's order among providers
    /// that were not failing, while the "Switch to …" notice (and the automatic
    /// switch) ranked them by health. With anthropic down, a notice could say
    /// "Switch to ollama" while the gateway sent the request to a degraded
    /// openai first. Both now use `routing::healthiest_first`.
    #[test]
    fn first_alternative_is_the_one_the_switch_notice_offers() {
        let config = Config::parse(CONFIG, Path::new("/x.toml")).unwrap();
        let cases = [
            // (openai, ollama) -> the gateway's order
            (
                (State::Degraded, State::Operational),
                ["ollama", "openai", "anthropic"],
            ),
            (
                (State::Degraded, State::RateLimited),
                ["ollama", "openai", "anthropic"],
            ),
            (
                (State::Unknown, State::Degraded),
                ["ollama", "openai", "anthropic"],
            ),
            (
                (State::Operational, State::Operational),
                ["openai", "ollama", "anthropic"],
            ),
        ];
        for ((openai, ollama), want) in cases {
            let mut r = report(&[
                ("anthropic", State::Outage),
                ("openai", openai),
                ("ollama", ollama),
            ]);
            r.fallback = config.fallback.clone();
            let plan = plan(&config, &r, Protocol::Anthropic);
            assert_eq!(ids(&plan), want, "openai {openai}, ollama {ollama}");
            let offered = crate::routing::healthiest_alternative("anthropic", State::Outage, &r);
            assert_eq!(offered.map(|a| a.id).as_deref(), Some(want[0]));
        }
    }

    #[test]
    fn a_working_preferred_provider_stays_first() {
        let config = Config::parse(CONFIG, Path::new("/x.toml")).unwrap();
        for state in [State::Degraded, State::RateLimited, State::Unknown] {
            let r = report(&[
                ("anthropic", state),
                ("openai", State::Operational),
                ("ollama", State::Operational),
            ]);
            assert_eq!(
                ids(&plan(&config, &r, Protocol::Anthropic)),
                ["anthropic", "openai", "ollama"],
                "{state}"
            );
        }
    }
}
