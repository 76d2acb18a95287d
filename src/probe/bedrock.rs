//! Amazon Bedrock: `GET https://bedrock.{region}.amazonaws.com/foundation-models?byProvider=anthropic`
//! (ListFoundationModels, the control plane), signed with SigV4 (service
//! `bedrock`) or carrying a Bedrock API key. Free, and it checks the
//! credential and the region. With a custom `base_url` (a proxy, a fake) the
//! probe goes to `{base_url}/foundation-models` on that same base.
//!
//! It does not prove model access or working inference (a successful list does
//! not): the gateway's own calls report those as passive signals.

use reqwest::header::{HeaderValue, ACCEPT};
use url::Url;

use crate::cloud::aws::{authorize, AwsError, BedrockAuth};
use crate::config::Provider;
use crate::upstream::bedrock::{control_base, BedrockError};
use crate::upstream::models::join;

/// The probe URL for `provider` in `region`.
pub(crate) fn url(provider: &Provider, region: &str) -> Result<Url, BedrockError> {
    // Only Anthropic's models: a short answer about the models we would call.
    Ok(join(
        &control_base(provider, region)?,
        "foundation-models",
        &[("byProvider", "anthropic")],
    ))
}

/// The signed (or bearer-carrying) probe request. Signed last, over exactly
/// the headers sent.
pub(crate) fn request(
    client: &reqwest::Client,
    provider: &Provider,
    auth: &BedrockAuth,
) -> Result<reqwest::Request, BedrockError> {
    let mut request = client
        .get(url(provider, &auth.region)?)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .build()?;
    authorize(&mut request, auth)?;
    Ok(request)
}

/// The report's `error_type` for a probe that could not be prepared.
pub(crate) fn setup_error_type(err: &BedrockError) -> &'static str {
    match err {
        BedrockError::Auth(AwsError::InvalidKey) => "invalid_key",
        BedrockError::Endpoint { .. } => "invalid_config",
        _ => "signing_failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::aws::{AwsCredentialSource, AwsCredentials, BedrockCredential};
    use crate::config::Config;
    use crate::secrets::Secret;
    use std::path::Path;

    fn provider(config: &str) -> Provider {
        Config::parse(config, Path::new("x"))
            .unwrap()
            .provider("bedrock")
            .unwrap()
            .clone()
    }

    #[test]
    fn url_is_the_control_plane_or_the_custom_base() {
        assert_eq!(
            url(&provider(""), "eu-west-3").unwrap().as_str(),
            "https://bedrock.eu-west-3.amazonaws.com/foundation-models?byProvider=anthropic"
        );
        let custom = provider("[[providers]]\nid = \"bedrock\"\nbase_url = \"http://127.0.0.1:9/aws/\"\n");
        assert_eq!(
            url(&custom, "eu-west-3").unwrap().as_str(),
            "http://127.0.0.1:9/aws/foundation-models?byProvider=anthropic"
        );
    }

    #[test]
    fn requests_carry_a_hidden_credential() {
        let client = reqwest::Client::new();
        let p = provider("");
        let bearer = BedrockAuth {
            region: "us-west-2".into(),
            credential: BedrockCredential::ApiKey(Secret::new("ABSKsecret")),
        };
        let r = request(&client, &p, &bearer).unwrap();
        assert_eq!(r.headers()["authorization"], "Bearer ABSKsecret");
        assert!(r.headers()["authorization"].is_sensitive());
        assert!(r.headers().get("x-amz-date").is_none());

        let sigv4 = BedrockAuth {
            region: "us-west-2".into(),
            credential: BedrockCredential::Aws(AwsCredentials::new(
                "AKIDEXAMPLE",
                Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                Some(Secret::new("session-token")),
                AwsCredentialSource::Environment,
            )),
        };
        let r = request(&client, &p, &sigv4).unwrap();
        let auth = r.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/us-west-2/bedrock/aws4_request"), "{auth}");
        assert!(r.headers()["authorization"].is_sensitive());
        assert_eq!(r.headers()["x-amz-security-token"], "session-token");
        assert!(!format!("{r:?}").contains("EXAMPLEKEY"));
    }
}
