//! Claude on Amazon Bedrock: InvokeModel and InvokeModelWithResponseStream
//! requests, and the endpoints they go to.
//!
//! Bedrock speaks the Anthropic Messages body almost verbatim: the model moves
//! from the body to the URL (`/model/{id}/invoke`), `stream` becomes a choice of
//! endpoint (`invoke-with-response-stream`), and `anthropic_version` pins the
//! Bedrock dialect. The credential and the signature are `cloud::aws`'s; the
//! answer's event-stream framing and AWS errors in Anthropic's words are the
//! gateway's (`gateway::bedrock`).

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use crate::cloud::aws::{self, authorize, AwsError, BedrockAuth};
use crate::config::Provider;
use crate::credentials::Credentials;

/// The body field that selects Bedrock's dialect of the Messages API.
pub(crate) const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";
/// Content type of a streaming answer (and `accept` of a streaming request).
pub(crate) const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

#[derive(Debug, thiserror::Error)]
pub(crate) enum BedrockError {
    #[error("the request has no \"model\": Bedrock needs a model id such as anthropic.claude-sonnet-4-5-20250929-v1:0")]
    MissingModel,
    #[error("the request body must be a JSON object")]
    NotAnObject,
    #[error("cannot build a Bedrock URL from region {region:?} and base {base:?}")]
    Endpoint { region: String, base: String },
    #[error("cannot build the Bedrock request: {0}")]
    Request(#[from] reqwest::Error),
    /// The API key cannot travel in a header, or SigV4 failed.
    #[error(transparent)]
    Auth(#[from] AwsError),
}

/// The runtime endpoint (InvokeModel): `base_url` when set (a proxy, a VPC
/// endpoint, a test fake), else `https://bedrock-runtime.{region}.amazonaws.com`.
pub(crate) fn runtime_base(provider: &Provider, region: &str) -> Result<Url, BedrockError> {
    base_or(provider, region, "bedrock-runtime")
}

/// The control-plane endpoint (ListFoundationModels): `base_url` when set, else
/// `https://bedrock.{region}.amazonaws.com`. A custom `base_url` serves both
/// planes, which is what proxies and fakes do.
pub(crate) fn control_base(provider: &Provider, region: &str) -> Result<Url, BedrockError> {
    base_or(provider, region, "bedrock")
}

fn base_or(provider: &Provider, region: &str, host: &str) -> Result<Url, BedrockError> {
    if let Some(base) = &provider.base_url {
        return Ok(base.clone());
    }
    let valid = !region.is_empty() && region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let error = || BedrockError::Endpoint {
        region: region.to_string(),
        base: host.to_string(),
    };
    if !valid {
        return Err(error());
    }
    Url::parse(&format!("https://{host}.{region}.amazonaws.com")).map_err(|_| error())
}

/// Resolves the credential for `provider` through the keyring and the caller's
/// environment. `None` when there is none at all (the provider is not used).
/// Keyring and file reads block, so they run on the blocking pool.
pub(crate) async fn resolve_auth(provider: &Provider, credentials: &Credentials) -> Option<BedrockAuth> {
    let key = credentials.resolve(provider).await.secret;
    let env = credentials.env().clone();
    let provider = provider.clone();
    tokio::task::spawn_blocking(move || aws::resolve_auth_with(&provider, key, &*env))
        .await
        .ok()
        .flatten()
}

/// Builds an InvokeModel (`stream == false`) or InvokeModelWithResponseStream
/// request from an Anthropic Messages request body, authorised by `auth`.
///
/// The model id comes from the body's `model` (set it to the provider's model
/// when re-routing). The body sent is the request without `model` and `stream`,
/// plus `anthropic_version`; anything else passes through, so a caller that
/// wants `anthropic-beta` features puts them in the body as `anthropic_beta`.
pub(crate) fn build_request(
    client: &reqwest::Client,
    provider: &Provider,
    auth: &BedrockAuth,
    body: &Value,
    stream: bool,
) -> Result<reqwest::Request, BedrockError> {
    let (model, payload) = bedrock_body(body)?;
    let action = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    let base = runtime_base(provider, &auth.region)?;
    let url = crate::http::join_path(&base, &format!("model/{}/{action}", encode_segment(&model)));
    let accept = if stream {
        EVENT_STREAM_CONTENT_TYPE
    } else {
        "application/json"
    };
    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, accept)
        .body(payload)
        .build()?;
    authorize(&mut request, auth)?;
    Ok(request)
}

/// The probe's request: ListFoundationModels, `GET
/// https://bedrock.{region}.amazonaws.com/foundation-models?byProvider=anthropic`
/// (the control plane), signed with SigV4 (service `bedrock`) or carrying a
/// Bedrock API key; signed last, over exactly the headers sent. Free, and it
/// checks the credential and the region. With a custom `base_url` (a proxy, a
/// fake) it goes to `{base_url}/foundation-models` on that same base.
///
/// It does not prove model access or working inference (a successful list
/// does not): the gateway's own calls report those as passive signals.
pub(crate) fn model_list(
    client: &reqwest::Client,
    provider: &Provider,
    auth: &BedrockAuth,
) -> Result<reqwest::Request, BedrockError> {
    let mut request = client
        .get(model_list_url(provider, &auth.region)?)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .build()?;
    authorize(&mut request, auth)?;
    Ok(request)
}

/// [`model_list`]'s URL for `provider` in `region`.
fn model_list_url(provider: &Provider, region: &str) -> Result<Url, BedrockError> {
    // Only Anthropic's models: a short answer about the models we would call.
    Ok(super::models::join(
        &control_base(provider, region)?,
        "foundation-models",
        &[("byProvider", "anthropic")],
    ))
}

/// The model id and the bytes Bedrock expects for an Anthropic request body.
pub(crate) fn bedrock_body(body: &Value) -> Result<(String, Vec<u8>), BedrockError> {
    let mut object = body.as_object().cloned().ok_or(BedrockError::NotAnObject)?;
    let model = match object.remove("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
        _ => return Err(BedrockError::MissingModel),
    };
    object.remove("stream");
    object
        .entry("anthropic_version")
        .or_insert_with(|| Value::String(ANTHROPIC_VERSION.to_string()));
    // Serialising a `Value` cannot fail: its keys are strings.
    let bytes = serde_json::to_vec(&Value::Object(object)).map_err(|_| BedrockError::NotAnObject)?;
    Ok((model, bytes))
}

/// Percent-encodes one path segment: model ids and ARNs carry `:` and `/`
/// (`anthropic.claude-...-v1:0`, inference-profile ARNs), which Bedrock wants
/// encoded, and which SigV4 then encodes once more in the canonical request.
fn encode_segment(segment: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;
    use std::path::Path;

    fn provider() -> Provider {
        Config::parse("", Path::new("x"))
            .unwrap()
            .provider("bedrock")
            .unwrap()
            .clone()
    }

    #[test]
    fn endpoints_are_named_after_the_region() {
        let p = provider();
        assert_eq!(
            runtime_base(&p, "ap-northeast-1").unwrap().as_str(),
            "https://bedrock-runtime.ap-northeast-1.amazonaws.com/"
        );
        assert_eq!(
            control_base(&p, "ap-northeast-1").unwrap().as_str(),
            "https://bedrock.ap-northeast-1.amazonaws.com/"
        );
        assert!(runtime_base(&p, "evil.com/x").is_err());
    }

    #[test]
    fn body_drops_model_and_stream_and_pins_the_version() {
        let (model, bytes) = bedrock_body(&json!({
            "model": "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "stream": true,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .unwrap();
        assert_eq!(model, "anthropic.claude-sonnet-4-5-20250929-v1:0");
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["anthropic_version"], ANTHROPIC_VERSION);
        assert!(body.get("model").is_none() && body.get("stream").is_none());
        assert_eq!(body["max_tokens"], 10);
        assert!(matches!(
            bedrock_body(&json!({"max_tokens": 1})),
            Err(BedrockError::MissingModel)
        ));
        assert!(matches!(
            bedrock_body(&json!([1])),
            Err(BedrockError::NotAnObject)
        ));
        assert_eq!(
            encode_segment("arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.x-v1:0"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.anthropic.x-v1%3A0"
        );
    }
}

#[cfg(test)]
mod model_list_tests {
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
            model_list_url(&provider(""), "eu-west-3").unwrap().as_str(),
            "https://bedrock.eu-west-3.amazonaws.com/foundation-models?byProvider=anthropic"
        );
        let custom = provider("[[providers]]\nid = \"bedrock\"\nbase_url = \"http://127.0.0.1:9/aws/\"\n");
        assert_eq!(
            model_list_url(&custom, "eu-west-3").unwrap().as_str(),
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
        let r = model_list(&client, &p, &bearer).unwrap();
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
        let r = model_list(&client, &p, &sigv4).unwrap();
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
