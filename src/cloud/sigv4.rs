//! AWS Signature Version 4 over a built `reqwest::Request`, by `aws-sigv4`.
//! Signs the exact method, URL, headers and body bytes, so it must run after
//! everything else was added to the request.

use std::time::SystemTime;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use super::aws::{AwsCredentials, AwsError};

/// Signs `request` for `service` in `region` at `time`, adding the
/// `authorization`, `x-amz-date` (and `x-amz-security-token`) headers as
/// sensitive values.
pub(super) fn sign(
    request: &mut reqwest::Request,
    aws: &AwsCredentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), AwsError> {
    use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let identity = aws_credential_types::Credentials::new(
        aws.access_key_id.clone(),
        aws.secret_access_key.expose().to_string(),
        aws.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "switchboard",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| AwsError::Signing(e.to_string()))?
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let body = request.body().and_then(|b| b.as_bytes()).unwrap_or_default();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.url().as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| AwsError::Signing(e.to_string()))?;
    let (instructions, _signature) = sigv4_sign(signable, &params)
        .map_err(|e| AwsError::Signing(e.to_string()))?
        .into_parts();
    let (signed_headers, _params) = instructions.into_parts();
    for header in signed_headers {
        let name = HeaderName::from_static(header.name());
        let mut value =
            HeaderValue::from_str(header.value()).map_err(|e| AwsError::Signing(e.to_string()))?;
        value.set_sensitive(header.sensitive() || name == AUTHORIZATION);
        request.headers_mut().insert(name, value);
    }
    Ok(())
}
