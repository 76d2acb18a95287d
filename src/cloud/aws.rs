//! AWS credentials for Claude on Amazon Bedrock: a Bedrock API key, or AWS
//! access keys from the environment or the shared credentials file, plus the
//! region every signature and default endpoint names.
//!
//! Order: a Bedrock API key (keyring account = provider id, else the
//! provider's `api_key_env`, `AWS_BEARER_TOKEN_BEDROCK` in the catalog) sent as
//! a bearer token; else AWS access keys from the environment; else the shared
//! credentials file.
//!
//! Left out on purpose: SSO, `credential_process`, instance roles and other
//! AWS SDK credential providers (use environment variables exported by
//! `aws configure export-credentials`).

use std::path::PathBuf;
use std::time::SystemTime;

use reqwest::header::{HeaderValue, AUTHORIZATION};

use super::non_empty;
use crate::config::Provider;
use crate::secrets::Secret;

/// Region when neither the config nor `AWS_REGION` / `AWS_DEFAULT_REGION` says.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";
/// Profile read from the shared credentials file when `AWS_PROFILE` is unset.
const DEFAULT_PROFILE: &str = "default";
/// The SigV4 service name of both Bedrock's runtime and its control plane.
const BEDROCK_SIGNING_SERVICE: &str = "bedrock";

/// Why a request could not be authorised. Deliberately carries no part of a
/// credential.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AwsError {
    #[error("the stored Bedrock API key contains characters that cannot be sent in an HTTP header (a pasted line break?); set it again")]
    InvalidKey,
    #[error("cannot sign the Bedrock request: {0}")]
    Signing(String),
}

/// AWS access keys for SigV4. The secret parts never print.
#[derive(Clone)]
pub(crate) struct AwsCredentials {
    pub(super) access_key_id: String,
    pub(super) secret_access_key: Secret,
    pub(super) session_token: Option<Secret>,
    source: AwsCredentialSource,
}

/// Where AWS access keys were found, to tell the user which ones are in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AwsCredentialSource {
    Environment,
    SharedFile { path: PathBuf, profile: String },
}

impl AwsCredentials {
    pub(crate) fn new(
        access_key_id: impl Into<String>,
        secret_access_key: Secret,
        session_token: Option<Secret>,
        source: AwsCredentialSource,
    ) -> Self {
        AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key,
            session_token,
            source,
        }
    }

    /// The key id: an identifier, not a secret (AWS prints it in consoles and logs).
    #[cfg(test)]
    pub(crate) fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    #[cfg(test)]
    pub(crate) fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }

    // Not shown anywhere yet.
    #[allow(dead_code)]
    pub(crate) fn source(&self) -> &AwsCredentialSource {
        &self.source
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("source", &self.source)
            .finish()
    }
}

/// How a Bedrock request is authorised.
#[derive(Clone, Debug)]
pub(crate) enum BedrockCredential {
    /// A Bedrock API key, sent as `Authorization: Bearer`.
    ApiKey(Secret),
    /// AWS access keys, used to sign the request with SigV4.
    Aws(AwsCredentials),
}

/// A credential plus the region it is used in: SigV4 signs the region into
/// every signature, and the default endpoints are named after it.
#[derive(Clone, Debug)]
pub(crate) struct BedrockAuth {
    pub(crate) region: String,
    pub(crate) credential: BedrockCredential,
}

impl BedrockAuth {
    /// The secret strings this auth could put on the wire, for scrubbing
    /// anything a server echoes back.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match &self.credential {
            BedrockCredential::ApiKey(key) => vec![key.expose()],
            BedrockCredential::Aws(aws) => {
                let mut out = vec![aws.secret_access_key.expose()];
                out.extend(aws.session_token.as_ref().map(Secret::expose));
                out
            }
        }
    }
}

/// The region for `provider`: its `region` key, else `AWS_REGION`, else
/// `AWS_DEFAULT_REGION` (the AWS CLI's and SDKs' order), else [`DEFAULT_REGION`].
pub(crate) fn region(provider: &Provider, env: &dyn Fn(&str) -> Option<String>) -> String {
    provider
        .cloud
        .region
        .clone()
        .or_else(|| non_empty(env("AWS_REGION")))
        .or_else(|| non_empty(env("AWS_DEFAULT_REGION")))
        .unwrap_or_else(|| DEFAULT_REGION.to_string())
}

/// The Bedrock credential for `provider` once the API key (keyring or
/// `api_key_env`) is known: the key wins, then AWS access keys. `None` when
/// there is none at all. May read the credentials file: call off the async threads.
pub(crate) fn resolve_auth_with(
    provider: &Provider,
    api_key: Option<Secret>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<BedrockAuth> {
    let credential = match api_key.filter(|k| !k.expose().trim().is_empty()) {
        Some(key) => BedrockCredential::ApiKey(key),
        None => BedrockCredential::Aws(aws_credentials(env)?),
    };
    Some(BedrockAuth {
        region: region(provider, env),
        credential,
    })
}

/// AWS access keys from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
/// `AWS_SESSION_TOKEN`, else from the shared credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), profile
/// `AWS_PROFILE` or `default`. Reads a small file: call off the async threads.
pub(crate) fn aws_credentials(env: &dyn Fn(&str) -> Option<String>) -> Option<AwsCredentials> {
    if let (Some(id), Some(secret)) = (
        non_empty(env("AWS_ACCESS_KEY_ID")),
        non_empty(env("AWS_SECRET_ACCESS_KEY")),
    ) {
        return Some(AwsCredentials::new(
            id,
            Secret::new(secret),
            non_empty(env("AWS_SESSION_TOKEN")).map(Secret::new),
            AwsCredentialSource::Environment,
        ));
    }
    let path = non_empty(env("AWS_SHARED_CREDENTIALS_FILE"))
        .map(PathBuf::from)
        .or_else(|| {
            non_empty(env("HOME"))
                .or_else(|| non_empty(env("USERPROFILE")))
                .map(|home| PathBuf::from(home).join(".aws").join("credentials"))
        })?;
    let profile = non_empty(env("AWS_PROFILE")).unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::debug!(path = %path.display(), error = %e, "cannot read the AWS credentials file");
            }
            return None;
        }
    };
    let (id, secret, token) = profile_keys(&text, &profile)?;
    Some(AwsCredentials::new(
        id,
        Secret::new(secret),
        token.map(Secret::new),
        AwsCredentialSource::SharedFile { path, profile },
    ))
}

/// The access keys of `[profile]` in an AWS credentials file (INI: `key = value`
/// lines under `[name]` headers, `#` and `;` comments). Both the key id and the
/// secret must be present.
fn profile_keys(text: &str, profile: &str) -> Option<(String, String, Option<String>)> {
    let (mut id, mut secret, mut token) = (None, None, None);
    let mut in_profile = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = non_empty(Some(value.trim().to_string()));
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = value,
            "aws_secret_access_key" => secret = value,
            "aws_session_token" => token = value,
            _ => {}
        }
    }
    Some((id?, secret?, token))
}

/// Adds the credential to a built request: a bearer header for an API key, a
/// SigV4 signature over the exact method, URL, headers and body bytes otherwise.
/// Call it last: a header added afterwards is not covered by the signature.
pub(crate) fn authorize(request: &mut reqwest::Request, auth: &BedrockAuth) -> Result<(), AwsError> {
    match &auth.credential {
        BedrockCredential::ApiKey(key) => {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose().trim()))
                .map_err(|_| AwsError::InvalidKey)?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            Ok(())
        }
        BedrockCredential::Aws(aws) => super::sigv4::sign(
            request,
            aws,
            &auth.region,
            BEDROCK_SIGNING_SERVICE,
            SystemTime::now(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn provider() -> Provider {
        Config::parse("", Path::new("x"))
            .unwrap()
            .provider("bedrock")
            .unwrap()
            .clone()
    }

    #[test]
    fn region_order_is_config_then_env_then_default() {
        let mut p = provider();
        assert_eq!(region(&p, &|_| None), "us-east-1");
        let env = |n: &str| match n {
            "AWS_DEFAULT_REGION" => Some("eu-west-1".to_string()),
            "AWS_REGION" => Some("eu-central-1".to_string()),
            _ => None,
        };
        assert_eq!(region(&p, &env), "eu-central-1");
        assert_eq!(
            region(&p, &|n| (n == "AWS_DEFAULT_REGION").then(|| "eu-west-1".into())),
            "eu-west-1"
        );
        p.cloud.region = Some("ap-northeast-1".into());
        assert_eq!(region(&p, &env), "ap-northeast-1");
    }

    #[test]
    fn credentials_file_profiles() {
        let text = "\
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secretdefault

[work]
aws_access_key_id=AKIDWORK
aws_secret_access_key=secretwork
aws_session_token = tok
[broken]
aws_access_key_id = AKIDONLY
";
        assert_eq!(
            profile_keys(text, "default"),
            Some(("AKIDDEFAULT".into(), "secretdefault".into(), None))
        );
        assert_eq!(
            profile_keys(text, "work"),
            Some(("AKIDWORK".into(), "secretwork".into(), Some("tok".into())))
        );
        assert_eq!(profile_keys(text, "broken"), None);
        assert_eq!(profile_keys(text, "missing"), None);
    }

    #[test]
    fn api_key_wins_and_nothing_means_none() {
        let p = provider();
        let env = |n: &str| match n {
            "AWS_ACCESS_KEY_ID" => Some("AKID".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("SECRET".to_string()),
            _ => None,
        };
        let auth = resolve_auth_with(&p, Some(Secret::new("bedrock-key")), &env).unwrap();
        assert!(matches!(auth.credential, BedrockCredential::ApiKey(_)));
        let auth = resolve_auth_with(&p, None, &env).unwrap();
        assert!(matches!(auth.credential, BedrockCredential::Aws(_)));
        assert!(resolve_auth_with(&p, None, &|_| None).is_none());
        assert!(!format!("{auth:?}").contains("SECRET"));
    }
}
