//! Which models a status-page incident names, and whether that concerns a
//! provider: "Elevated errors on Claude Opus 4.5 and Sonnet 4.5" is news for
//! someone on `claude-sonnet-4-5-20250929`, not for someone on Haiku.
//!
//! Owns the reading of model names in prose (incident titles, component names
//! such as "Claude Opus 4.6") and in API model ids (`claude-opus-4-1`,
//! `gpt-5`, `gemini-2.5-pro`, Bedrock's `anthropic.claude-…-v1:0`, Vertex's
//! `claude-…@20250929`, OpenRouter's `anthropic/claude-sonnet-4.5`), both
//! reduced to one key per model. Pure text work; what a relevant or irrelevant
//! incident does to a provider's state is `verdict`'s job.

use crate::config::Provider;

/// Whom an incident concerns, judged by the models it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relevance {
    /// It names at least one of the provider's models.
    Mine,
    /// It names models, none of them the provider's.
    NotMine,
    /// It names no model ("Elevated errors on Claude API"), or many at once
    /// ("Elevated errors across many models"), or we cannot tell.
    Everyone,
}

/// Judges an incident by the models its title and component names mention,
/// against the models a provider relies on (API ids, as configured).
///
/// `NotMine` only when every one of `models` is a model we can read: an id we
/// do not recognise (a fine-tune, a deployment alias) might be one of those
/// named, so the incident then counts for everyone.
pub(crate) fn incident_relevance(title: &str, components: &[String], models: &[String]) -> Relevance {
    let texts = std::iter::once(title).chain(components.iter().map(String::as_str));
    let mut named = Vec::new();
    for text in texts {
        let tokens = tokenize(text);
        if says_many_models(&tokens) {
            return Relevance::Everyone;
        }
        named.extend(mentions(&tokens, Mode::Prose));
    }
    if named.is_empty() {
        return Relevance::Everyone;
    }
    let mine: Vec<Option<ModelKey>> = models.iter().map(|m| model_key(m)).collect();
    if mine.is_empty() {
        return Relevance::Everyone;
    }
    if named.iter().any(|n| mine.iter().flatten().any(|k| n.names(k))) {
        Relevance::Mine
    } else if mine.iter().any(Option::is_none) {
        Relevance::Everyone
    } else {
        Relevance::NotMine
    }
}

/// Whether `text` (a title, a component name) names a model.
pub(crate) fn names_a_model(text: &str) -> bool {
    !mentions(&tokenize(text), Mode::Prose).is_empty()
}

/// The models a provider relies on, as far as the config says: its
/// `models`, else its `model` (the one gateway requests are re-routed to).
pub(crate) fn provider_models(provider: &Provider) -> Vec<String> {
    provider.watched_models()
}

/// One model, normalised: "Claude Sonnet 4.5", "Sonnet 4.5" and
/// `claude-sonnet-4-5-20250929` all become `{claude-sonnet, 4.5, []}`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ModelKey {
    /// `claude-opus`, `claude-sonnet`, `claude-haiku`, `gpt`, `o3`, `gemini`.
    family: String,
    /// Dotted version without trailing `.0` ("4.5", "4", "4o", "2.5"); `None`
    /// in prose that names a family only ("Claude Opus").
    version: Option<String>,
    /// Sorted size or flavour words ("mini", "pro", "flash", "lite").
    tiers: Vec<&'static str>,
}

impl ModelKey {
    /// Whether a model named in prose (`self`) is the configured model `k`.
    /// A family named without a version ("errors on Claude Opus") covers every
    /// version of it; otherwise version and tiers must agree ("GPT-5" is not
    /// `gpt-5-mini`, "Opus 4" is not `claude-opus-4-1`).
    fn names(&self, k: &ModelKey) -> bool {
        self.family == k.family
            && match &self.version {
                None => true,
                Some(v) => k.version.as_ref() == Some(v) && self.tiers == k.tiers,
            }
    }
}

/// Claude's model lines.
const CLAUDE_VARIANTS: &[&str] = &["opus", "sonnet", "haiku"];
/// Words after a GPT, o-series or Gemini version that make it another model.
const TIERS: &[&str] = &[
    "mini", "nano", "pro", "turbo", "codex", "flash", "lite", "ultra", "max", "realtime", "audio", "image",
    "chat",
];
/// Words that, before "models", mean the incident is about many of them.
const MANY: &[&str] = &[
    "multiple", "many", "all", "several", "other", "various", "most", "some", "numerous", "select",
];
/// How far before "models" a quantifier may stand ("all Claude models",
/// "many of our models").
const MANY_WINDOW: usize = 3;
/// Longest number read as a version part: "4", "5", "25" (dates and
/// snapshot numbers such as `20250929` or `0613` are not versions).
const MAX_VERSION_DIGITS: usize = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Titles and component names: versions are dotted ("Sonnet 4.5").
    Prose,
    /// API model ids: versions are dashed or dotted (`claude-sonnet-4-5`).
    Id,
}

#[derive(Debug)]
struct Token {
    word: String,
    /// The characters between the previous token and this one.
    sep: String,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut sep = String::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            if !word.is_empty() {
                out.push(Token {
                    word: std::mem::take(&mut word),
                    sep: std::mem::take(&mut sep),
                });
            }
            sep.push(c);
        }
    }
    if !word.is_empty() {
        out.push(Token { word, sep });
    }
    out
}

/// The key of a configured model id; `None` when it is no model we know.
fn model_key(id: &str) -> Option<ModelKey> {
    mentions(&tokenize(id), Mode::Id).into_iter().next()
}

fn says_many_models(tokens: &[Token]) -> bool {
    tokens.iter().enumerate().any(|(i, t)| {
        t.word == "models"
            && tokens[i.saturating_sub(MANY_WINDOW)..i]
                .iter()
                .any(|q| MANY.contains(&q.word.as_str()))
    })
}

fn is_version_part(word: &str) -> bool {
    !word.is_empty() && word.len() <= MAX_VERSION_DIGITS && word.bytes().all(|b| b.is_ascii_digit())
}

/// Reads a version starting at `i`: "4", "4.5", `4-5` (ids only). GPT's first
/// part may carry a letter ("4o"). Returns the version and the index after it.
fn version_at(tokens: &[Token], i: usize, mode: Mode, letter_ok: bool) -> (Option<String>, usize) {
    let Some(first) = tokens.get(i) else {
        return (None, i);
    };
    let lettered = letter_ok
        && first.word.len() >= 2
        && first.word.len() <= MAX_VERSION_DIGITS + 1
        && first.word[..first.word.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_digit())
        && first.word.ends_with('o');
    if !is_version_part(&first.word) && !lettered {
        return (None, i);
    }
    let mut parts = vec![first.word.clone()];
    let mut j = i + 1;
    if !lettered {
        while let Some(t) = tokens.get(j) {
            let joins = match mode {
                Mode::Prose => t.sep == ".",
                Mode::Id => matches!(t.sep.as_str(), "." | "-" | "_"),
            };
            if !joins || !is_version_part(&t.word) {
                break;
            }
            parts.push(t.word.clone());
            j += 1;
        }
    }
    while parts.len() > 1 && parts.last().is_some_and(|p| p.trim_start_matches('0').is_empty()) {
        parts.pop();
    }
    (Some(parts.join(".")), j)
}

/// Tier words from `i` on, and the index after them.
fn tiers_at(tokens: &[Token], mut i: usize) -> (Vec<&'static str>, usize) {
    let mut tiers = Vec::new();
    while let Some(tier) = tokens.get(i).and_then(|t| TIERS.iter().find(|w| **w == t.word)) {
        tiers.push(*tier);
        i += 1;
    }
    tiers.sort_unstable();
    tiers.dedup();
    (tiers, i)
}

/// Where a list of the same family goes on after a mention ending at `i`
/// ("Opus 4 and 4.1", "Gemini 2.5 Pro, Flash"): the index of the next item.
fn list_continues(tokens: &[Token], i: usize) -> Option<usize> {
    let t = tokens.get(i)?;
    if matches!(t.word.as_str(), "and" | "or") {
        return Some(i + 1);
    }
    (t.sep.contains(',') || t.sep.contains('/') || t.sep.contains('&')).then_some(i)
}

/// Every model named in `tokens`, in order.
fn mentions(tokens: &[Token], mode: Mode) -> Vec<ModelKey> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].word.as_str();
        let found = if word == "claude" {
            claude_after(tokens, i + 1, mode)
        } else if CLAUDE_VARIANTS.contains(&word) {
            claude_after(tokens, i, mode)
        } else if word == "gpt" {
            versioned(tokens, i + 1, mode, "gpt", true)
        } else if let Some(v) = word.strip_prefix("gpt").filter(|v| !v.is_empty()) {
            // "GPT4o", "gpt4": the version glued to the name.
            let glued = [Token {
                word: v.to_string(),
                sep: String::new(),
            }];
            versioned(&glued, 0, mode, "gpt", true).map(|(k, _)| (k, i + 1))
        } else if word == "gemini" {
            versioned(tokens, i + 1, mode, "gemini", false)
        } else if is_o_series(word) {
            let (tiers, end) = tiers_at(tokens, i + 1);
            Some((
                ModelKey {
                    family: word.to_string(),
                    version: Some(String::new()),
                    tiers,
                },
                end,
            ))
        } else {
            None
        };
        let Some((key, mut end)) = found else {
            i += 1;
            continue;
        };
        // "Claude Opus 4 and 4.1", "Gemini 2.5 Pro and Flash".
        let mut last = key.clone();
        out.push(key);
        while let Some(k) = list_continues(tokens, end) {
            let (version, after_version) = version_at(tokens, k, mode, last.family == "gpt");
            let next = if let Some(version) = version {
                let (tiers, after) = tiers_at(tokens, after_version);
                Some((
                    ModelKey {
                        version: Some(version),
                        tiers,
                        ..last.clone()
                    },
                    after,
                ))
            } else if last.version.is_some() && !last.family.starts_with("claude") {
                let (tiers, after) = tiers_at(tokens, k);
                (!tiers.is_empty()).then(|| {
                    (
                        ModelKey {
                            tiers,
                            ..last.clone()
                        },
                        after,
                    )
                })
            } else {
                None
            };
            let Some((key, after)) = next else { break };
            last = key.clone();
            out.push(key);
            end = after;
        }
        i = end.max(i + 1);
    }
    out
}

/// o1, o3, o4 (`o4-mini`, "o3-pro").
fn is_o_series(word: &str) -> bool {
    word.len() == 2 && word.starts_with('o') && word.as_bytes()[1].is_ascii_digit() && word != "o0"
}

/// A family whose version is required ("GPT-5", "Gemini 2.5 Pro"); a bare
/// "Gemini" or "GPT" is a product name ("Vertex Gemini API", "GPTs"), no model.
fn versioned(
    tokens: &[Token],
    i: usize,
    mode: Mode,
    family: &str,
    letter_ok: bool,
) -> Option<(ModelKey, usize)> {
    let (version, after) = version_at(tokens, i, mode, letter_ok);
    let version = version?;
    let (tiers, end) = tiers_at(tokens, after);
    Some((
        ModelKey {
            family: family.to_string(),
            version: Some(version),
            tiers,
        },
        end,
    ))
}

/// A Claude model from `i` on: "Opus 4.5", "3.5 Sonnet" (the older order).
/// Without a variant word it is no specific model ("Claude API", "Claude 3").
fn claude_after(tokens: &[Token], i: usize, mode: Mode) -> Option<(ModelKey, usize)> {
    let (before, at) = version_at(tokens, i, mode, false);
    let variant = tokens
        .get(at)
        .and_then(|t| CLAUDE_VARIANTS.iter().find(|v| **v == t.word))?;
    let (version, end) = match before {
        Some(v) => (Some(v), at + 1),
        None => version_at(tokens, at + 1, mode, false),
    };
    let end = end.max(at + 1);
    Some((
        ModelKey {
            family: format!("claude-{variant}"),
            version,
            tiers: Vec::new(),
        },
        end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(family: &str, version: Option<&str>, tiers: &[&'static str]) -> ModelKey {
        ModelKey {
            family: family.into(),
            version: version.map(str::to_string),
            tiers: tiers.to_vec(),
        }
    }

    fn prose(text: &str) -> Vec<ModelKey> {
        mentions(&tokenize(text), Mode::Prose)
    }

    fn rel(title: &str, models: &[&str]) -> Relevance {
        let models: Vec<String> = models.iter().map(|s| s.to_string()).collect();
        incident_relevance(title, &[], &models)
    }

    #[test]
    fn model_ids_of_every_ecosystem_normalise() {
        let sonnet45 = key("claude-sonnet", Some("4.5"), &[]);
        for id in [
            "claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5@20250929",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic/claude-sonnet-4.5",
        ] {
            assert_eq!(model_key(id), Some(sonnet45.clone()), "{id}");
        }
        assert_eq!(
            model_key("claude-opus-4-1"),
            Some(key("claude-opus", Some("4.1"), &[]))
        );
        assert_eq!(
            model_key("claude-opus-4-0"),
            Some(key("claude-opus", Some("4"), &[]))
        );
        assert_eq!(
            model_key("claude-opus-4-20250514"),
            Some(key("claude-opus", Some("4"), &[]))
        );
        assert_eq!(
            model_key("claude-3-5-sonnet-20241022"),
            Some(key("claude-sonnet", Some("3.5"), &[]))
        );
        assert_eq!(model_key("gpt-5"), Some(key("gpt", Some("5"), &[])));
        assert_eq!(model_key("gpt-5-2025-08-07"), Some(key("gpt", Some("5"), &[])));
        assert_eq!(
            model_key("gpt-4.1-mini"),
            Some(key("gpt", Some("4.1"), &["mini"]))
        );
        assert_eq!(
            model_key("gpt-4o-mini-2024-07-18"),
            Some(key("gpt", Some("4o"), &["mini"]))
        );
        assert_eq!(model_key("gpt-4-0613"), Some(key("gpt", Some("4"), &[])));
        assert_eq!(model_key("o4-mini"), Some(key("o4", Some(""), &["mini"])));
        assert_eq!(
            model_key("gemini-2.5-pro"),
            Some(key("gemini", Some("2.5"), &["pro"]))
        );
        assert_eq!(
            model_key("gemini-2.5-flash-lite"),
            Some(key("gemini", Some("2.5"), &["flash", "lite"]))
        );
        assert_eq!(
            model_key("gemini-2.0-flash-001"),
            Some(key("gemini", Some("2"), &["flash"]))
        );
        for unknown in [
            "llama3.2",
            "my-azure-deployment",
            "claude-v2",
            "mistral-large-latest",
        ] {
            assert_eq!(model_key(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn titles_and_components_name_models_as_people_write_them() {
        assert_eq!(
            prose("Elevated errors on Claude Opus 4.5 and Sonnet 4.5"),
            [
                key("claude-opus", Some("4.5"), &[]),
                key("claude-sonnet", Some("4.5"), &[])
            ]
        );
        assert_eq!(prose("Claude Opus 4.6"), [key("claude-opus", Some("4.6"), &[])]);
        assert_eq!(
            prose("Increased errors on Opus 4 and 4.1"),
            [
                key("claude-opus", Some("4"), &[]),
                key("claude-opus", Some("4.1"), &[])
            ]
        );
        assert_eq!(
            prose("Claude 3.5 Sonnet unavailable"),
            [key("claude-sonnet", Some("3.5"), &[])]
        );
        assert_eq!(prose("Errors on Claude Haiku"), [key("claude-haiku", None, &[])]);
        assert_eq!(prose("Elevated errors for GPT‑5"), [key("gpt", Some("5"), &[])]);
        assert_eq!(
            prose("Degraded GPT-4o mini and GPT-4.1 responses"),
            [key("gpt", Some("4o"), &["mini"]), key("gpt", Some("4.1"), &[])]
        );
        assert_eq!(
            prose("Gemini 2.5 Pro and Flash errors"),
            [
                key("gemini", Some("2.5"), &["pro"]),
                key("gemini", Some("2.5"), &["flash"])
            ]
        );
        assert_eq!(prose("o3-pro latency"), [key("o3", Some(""), &["pro"])]);
        // Product names are no models.
        for none in [
            "Claude API (api.anthropic.com)",
            "Vertex Gemini API",
            "GPTs",
            "Elevated errors on claude.ai",
            "Claude Code login failures",
            "Elevated Error Rates for ChatGPT Work, across Plus, Pro, Business, Enterprise and Education plans.",
            "Claude 3 family",
            "Operations at 10:40",
        ] {
            assert_eq!(prose(none), [], "{none}");
        }
    }

    #[test]
    fn relevance_follows_the_users_models() {
        assert_eq!(
            rel(
                "Elevated errors on Claude Opus 4.5 and Sonnet 4.5",
                &["claude-sonnet-4-5-20250929"]
            ),
            Relevance::Mine
        );
        assert_eq!(
            rel(
                "Elevated errors on Claude Opus 4.5 and Sonnet 4.5",
                &["claude-haiku-4-5"]
            ),
            Relevance::NotMine
        );
        assert_eq!(
            rel("Elevated errors on Opus 4.1", &["claude-opus-4-1"]),
            Relevance::Mine
        );
        assert_eq!(
            rel("Elevated errors on Opus 4", &["claude-opus-4-1"]),
            Relevance::NotMine
        );
        assert_eq!(rel("Elevated errors on GPT-5", &["gpt-5"]), Relevance::Mine);
        assert_eq!(
            rel("Elevated errors on GPT-5", &["gpt-5-mini"]),
            Relevance::NotMine
        );
        assert_eq!(rel("Gemini 2.5 Pro errors", &["gemini-2.5-pro"]), Relevance::Mine);
        assert_eq!(
            rel("Gemini 2.5 Pro errors", &["gemini-2.5-flash"]),
            Relevance::NotMine
        );
        assert_eq!(
            rel("Errors on Claude Opus", &["claude-opus-4-1-20250805"]),
            Relevance::Mine,
            "a family without a version covers every version"
        );
        // Several models: one match is enough.
        assert_eq!(
            rel("Errors on Haiku 4.5", &["claude-sonnet-4-5", "claude-haiku-4-5"]),
            Relevance::Mine
        );
    }

    #[test]
    fn no_model_many_models_or_unreadable_ids_count_for_everyone() {
        for title in [
            "Elevated errors on Claude API",
            "Elevated errors across many models",
            "Elevated errors for multiple models",
            "Elevated errors on Claude Opus 4.5 and other models",
            "Increased latency for all Claude models",
        ] {
            assert_eq!(rel(title, &["claude-haiku-4-5"]), Relevance::Everyone, "{title}");
        }
        assert_eq!(
            rel("Errors on Opus 4.5", &[]),
            Relevance::Everyone,
            "no models known"
        );
        assert_eq!(
            rel("Errors on Opus 4.5", &["claude-haiku-4-5", "my-fine-tune"]),
            Relevance::Everyone,
            "an unreadable id may be the one named"
        );
    }

    #[test]
    fn component_names_count_as_mentions() {
        let comps = vec!["Claude Opus 4.6".to_string()];
        let models = |m: &str| vec![m.to_string()];
        assert_eq!(
            incident_relevance("Elevated error rates", &comps, &models("claude-opus-4-6")),
            Relevance::Mine
        );
        assert_eq!(
            incident_relevance("Elevated error rates", &comps, &models("claude-sonnet-4-5")),
            Relevance::NotMine
        );
        let surfaces = vec![
            "claude.ai".to_string(),
            "Claude API (api.anthropic.com)".to_string(),
        ];
        assert_eq!(
            incident_relevance("Elevated error rates", &surfaces, &models("claude-sonnet-4-5")),
            Relevance::Everyone
        );
    }
}
