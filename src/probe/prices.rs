//! What an inference check costs: a documented table of list prices per
//! model family, a per-provider override (`price_in_per_mtok`,
//! `price_out_per_mtok`), and a stated conservative price for models the
//! table does not know. Pure; the budget itself is `health::budget`.
//!
//! Prices are US dollars per million tokens, the providers' public list
//! prices (standard tier, no batch or cache discounts) as of 2026-01. A model
//! is matched by the first pattern its normalised id contains, so the more
//! specific pattern (`gpt-4o-mini`) comes before the broader (`gpt-4o`), and
//! cloud spellings (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`,
//! `claude-sonnet-4-5@20250929`) match like the native id.
//!
//! Left out on purpose: tiered long-context prices (a check sends ~10 tokens).

use crate::config::Provider;

/// US dollars per million input and output tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Price {
    pub(crate) input_per_mtok: f64,
    pub(crate) output_per_mtok: f64,
}

/// `(pattern, input $/MTok, output $/MTok)`, most specific first.
pub(crate) const PRICE_TABLE: &[(&str, f64, f64)] = &[
    // Anthropic (also on Bedrock and Vertex at the same list price).
    ("claude-opus-4-5", 5.0, 25.0),
    ("claude-opus-4-6", 5.0, 25.0),
    ("claude-opus-4", 15.0, 75.0),
    ("claude-3-opus", 15.0, 75.0),
    ("claude-sonnet-4", 3.0, 15.0),
    ("claude-3-7-sonnet", 3.0, 15.0),
    ("claude-3-5-sonnet", 3.0, 15.0),
    ("claude-haiku-4", 1.0, 5.0),
    ("claude-3-5-haiku", 0.8, 4.0),
    ("claude-3-haiku", 0.25, 1.25),
    // OpenAI.
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.0),
    ("gpt-5", 1.25, 10.0),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.5, 10.0),
    ("o4-mini", 1.10, 4.40),
    ("o3-mini", 1.10, 4.40),
    ("o3", 2.0, 8.0),
    // Google Gemini.
    ("gemini-2.5-flash-lite", 0.10, 0.40),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-pro", 1.25, 10.0),
    ("gemini-2.0-flash", 0.10, 0.40),
];

/// The price of a model nobody listed: the most expensive row of the table
/// (Claude Opus 4.1), so an unknown model can only make the budget stop
/// early, never overspend it.
pub(crate) const UNKNOWN_MODEL_PRICE: Price = Price {
    input_per_mtok: 15.0,
    output_per_mtok: 75.0,
};

/// Input tokens an estimate assumes for one check: a one-word user message
/// is 8 to 10 tokens with each protocol's framing.
pub(crate) const ESTIMATE_INPUT_TOKENS: u64 = 10;
/// Output tokens an estimate assumes: the check asks for one.
pub(crate) const ESTIMATE_OUTPUT_TOKENS: u64 = 1;

/// The price of `model` at `provider`: the provider's override for each
/// side it sets, else the table, else [`UNKNOWN_MODEL_PRICE`]. A model on
/// this machine (Ollama, a local server) is free.
pub(crate) fn price(provider: &Provider, model: &str) -> Price {
    let listed = if crate::probe::is_local_provider(provider) {
        Some(Price {
            input_per_mtok: 0.0,
            output_per_mtok: 0.0,
        })
    } else {
        table_price(model)
    };
    let base = listed.unwrap_or(UNKNOWN_MODEL_PRICE);
    Price {
        input_per_mtok: provider.prices.input_per_mtok.unwrap_or(base.input_per_mtok),
        output_per_mtok: provider.prices.output_per_mtok.unwrap_or(base.output_per_mtok),
    }
}

/// The table's price for `model`, if a pattern matches.
pub(crate) fn table_price(model: &str) -> Option<Price> {
    let id = model.trim().to_ascii_lowercase().replace(['.', '_'], "-");
    PRICE_TABLE.iter().find_map(|(pattern, i, o)| {
        let pattern = pattern.replace('.', "-");
        id.contains(&pattern).then_some(Price {
            input_per_mtok: *i,
            output_per_mtok: *o,
        })
    })
}

impl Price {
    /// US dollars for `input` and `output` tokens.
    pub(crate) fn cost(self, input: u64, output: u64) -> f64 {
        (input as f64 * self.input_per_mtok + output as f64 * self.output_per_mtok) / 1_000_000.0
    }

    /// The estimated cost of one check.
    pub(crate) fn per_check(self) -> f64 {
        self.cost(ESTIMATE_INPUT_TOKENS, ESTIMATE_OUTPUT_TOKENS)
    }
}

/// Seconds in the month used for estimates (30 days).
pub(crate) const ESTIMATE_MONTH_SECS: u64 = 30 * 24 * 3600;

/// The estimated monthly cost of checking `model` every `interval_secs`.
pub fn monthly_estimate(provider: &Provider, model: &str, interval_secs: u64) -> f64 {
    let checks = ESTIMATE_MONTH_SECS / interval_secs.max(1);
    price(provider, model).per_check() * checks as f64
}

/// What checking every model of `providers` every `interval_secs` would
/// cost a month (the consent offer's numbers).
pub(crate) fn estimate(
    providers: &[(&Provider, Vec<String>)],
    inference: &crate::config::InferenceConfig,
) -> crate::model::InferenceEstimate {
    let secs = inference.interval.as_secs().max(1);
    let providers: Vec<crate::model::ProviderEstimate> = providers
        .iter()
        .map(|(p, models)| crate::model::ProviderEstimate {
            id: p.id.clone(),
            models: models
                .iter()
                .map(|m| crate::model::ModelEstimate {
                    id: m.clone(),
                    usd_month: monthly_estimate(p, m, secs),
                    unknown_price: table_price(m).is_none()
                        && !crate::probe::is_local_provider(p)
                        && p.prices.input_per_mtok.is_none(),
                })
                .collect(),
        })
        .collect();
    crate::model::InferenceEstimate {
        enabled: inference.enabled,
        interval_secs: secs,
        budget_usd_month: inference.monthly_budget_usd,
        total_usd_month: providers
            .iter()
            .flat_map(|p| &p.models)
            .map(|m| m.usd_month)
            .sum(),
        providers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_spellings_match_the_native_price() {
        let native = table_price("claude-sonnet-4-5-20250929").expect("listed");
        assert_eq!(native.input_per_mtok, 3.0);
        for id in [
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5@20250929",
            "anthropic.claude-sonnet-4-20250514-v1:0",
        ] {
            assert_eq!(table_price(id), Some(native), "{id}");
        }
    }

    #[test]
    fn specific_patterns_win_over_broad_ones() {
        assert_eq!(table_price("gpt-4o-mini").map(|p| p.output_per_mtok), Some(0.60));
        assert_eq!(
            table_price("gpt-4o-2024-08-06").map(|p| p.output_per_mtok),
            Some(10.0)
        );
        assert_eq!(
            table_price("claude-opus-4-1").map(|p| p.output_per_mtok),
            Some(75.0)
        );
        assert_eq!(
            table_price("claude-opus-4-5").map(|p| p.output_per_mtok),
            Some(25.0)
        );
        assert_eq!(
            table_price("gemini-2.5-flash-lite").map(|p| p.input_per_mtok),
            Some(0.10)
        );
        assert_eq!(table_price("my-finetune"), None);
    }

    #[test]
    fn one_check_costs_what_its_tokens_cost() {
        let sonnet = table_price("claude-sonnet-4-5").unwrap();
        // 10 in × $3/M + 1 out × $15/M.
        assert!((sonnet.per_check() - 0.000045).abs() < 1e-12);
    }
}
