//! Claude on Amazon Bedrock and Google Vertex AI against fakes on 127.0.0.1:
//! SigV4 signatures checked by an independent implementation (itself pinned to
//! AWS's published test vector), Bedrock API keys, request bodies and URLs,
//! the binary event stream split at every byte, Vertex token commands (cached,
//! refreshed, failing without leaking), and the health probes of both kinds.
//!
//! No test reads or changes the process environment: every credential lookup
//! goes through an injected `EnvLookup`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cloud::aws::{self, BedrockCredential};
use crate::cloud::google::{TokenError, TokenSource, VertexError, VertexTarget};
use crate::config::{CheckConfig, Config, Provider};
use crate::credentials::Credentials;
use crate::gateway::bedrock::{self, BedrockFrame, EventStreamDecoder, EventStreamError};
use crate::model::{ProbeClass, ProbeReport, State};
use crate::probe::probe_with_credentials;
use crate::secrets::{EnvLookup, MemoryStore, Secret, SecretStore};
use crate::upstream::bedrock::EVENT_STREAM_CONTENT_TYPE;
use crate::upstream::{self, vertex};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const AKID: &str = "AKIDTESTEXAMPLE0001";
/// Distinctive, so a leak anywhere is unmistakable.
const AWS_SECRET: &str = "aws-secret-7f3a9c2e-DO-NOT-LEAK";
const SESSION_TOKEN: &str = "session-token-DO-NOT-LEAK";
const BEDROCK_KEY: &str = "ABSK-bedrock-key-DO-NOT-LEAK";
const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
/// The model id as it must appear in the request path.
const MODEL_IN_PATH: &str = "anthropic.claude-sonnet-4-5-20250929-v1%3A0";
const REGION: &str = "eu-west-3";

// ---------------------------------------------------------------------------
// An independent SigV4 verifier.

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// RFC 3986 encoding as SigV4 defines it (`/` kept only where asked).
fn aws_encode(text: &str, keep_slash: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b'/' if keep_slash => "/".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The signature of a canonical request, from first principles.
fn signature(secret: &str, amz_date: &str, region: &str, service: &str, canonical_request: &str) -> String {
    let day = &amz_date[..8];
    let scope = format!("{day}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), day);
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part);
    }
    hex(&hmac(&key, &string_to_sign))
}

/// The verifier itself must be right, or it proves nothing: AWS's published
/// `get-vanilla` vector from the SigV4 test suite.
#[test]
fn sigv4_verifier_matches_the_aws_test_vector() {
    let canonical = format!(
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{}",
        sha256_hex(b"")
    );
    assert_eq!(
        signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
            "us-east-1",
            "service",
            &canonical
        ),
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

/// What a received request must show to pass as signed by these keys.
#[derive(Clone)]
struct SigV4 {
    akid: &'static str,
    secret: &'static str,
    region: &'static str,
    session_token: Option<&'static str>,
}

impl SigV4 {
    /// Recomputes the signature of `req` as AWS would and compares.
    fn verify(&self, req: &Request) -> Result<(), String> {
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let auth = header("authorization").ok_or("no authorization header")?;
        let rest = auth
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .ok_or_else(|| format!("not SigV4: {auth}"))?;
        let mut fields = HashMap::new();
        for part in rest.split(", ") {
            let (k, v) = part.split_once('=').ok_or("malformed authorization")?;
            fields.insert(k, v);
        }
        let credential = fields.get("Credential").ok_or("no Credential")?;
        let signed = fields.get("SignedHeaders").ok_or("no SignedHeaders")?;
        let got = fields.get("Signature").ok_or("no Signature")?;
        let amz_date = header("x-amz-date").ok_or("no x-amz-date")?;
        let expected_scope = format!(
            "{}/{}/{}/bedrock/aws4_request",
            self.akid,
            &amz_date[..8],
            self.region
        );
        if *credential != expected_scope {
            return Err(format!("credential scope {credential}, want {expected_scope}"));
        }
        let signed: Vec<&str> = signed.split(';').collect();
        for must in ["host", "x-amz-date"] {
            if !signed.contains(&must) {
                return Err(format!("{must} is not signed: {signed:?}"));
            }
        }
        match (self.session_token, header("x-amz-security-token")) {
            (Some(want), Some(got)) if got == want => {
                if !signed.contains(&"x-amz-security-token") {
                    return Err("session token not signed".into());
                }
            }
            (None, None) => {}
            (want, got) => return Err(format!("session token {got:?}, want {want:?}")),
        }
        let canonical_uri = aws_encode(req.url.path(), true);
        let mut query: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (aws_encode(&k, false), aws_encode(&v, false)))
            .collect();
        query.sort();
        let canonical_query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut canonical_headers = String::new();
        for name in &signed {
            let value = header(name).ok_or_else(|| format!("signed header {name} was not sent"))?;
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            canonical_headers.push_str(&format!("{name}:{value}\n"));
        }
        let canonical = format!(
            "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{}\n{}",
            req.method.as_str(),
            signed.join(";"),
            sha256_hex(&req.body)
        );
        let want = signature(self.secret, &amz_date, self.region, "bedrock", &canonical);
        if *got == want {
            Ok(())
        } else {
            Err(format!("signature {got}, recomputed {want}\n{canonical}"))
        }
    }
}

impl wiremock::Match for SigV4 {
    fn matches(&self, request: &Request) -> bool {
        self.verify(request).is_ok()
    }
}

/// Matches requests that carry no SigV4 signature at all.
struct Unsigned;

impl wiremock::Match for Unsigned {
    fn matches(&self, request: &Request) -> bool {
        request.headers.get("x-amz-date").is_none() && request.headers.get("x-amz-security-token").is_none()
    }
}

// ---------------------------------------------------------------------------
// Helpers.

fn env_of(pairs: &[(&str, &str)]) -> EnvLookup {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Arc::new(move |name| map.get(name).cloned())
}

fn credentials(store: MemoryStore, env: &[(&str, &str)]) -> Credentials {
    Credentials::new(Arc::new(store), env_of(env))
}

fn aws_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", AKID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
    ]
}

fn provider(config: &str, id: &str) -> Provider {
    Config::parse(config, Path::new("/tmp/config.toml"))
        .expect("test config")
        .provider(id)
        .expect("provider in config")
        .clone()
}

fn bedrock_provider(base: &str) -> Provider {
    provider(
        &format!("[[providers]]\nid = \"bedrock\"\nbase_url = \"{base}\"\nregion = \"{REGION}\"\n"),
        "bedrock",
    )
}

fn anthropic_request(stream: bool) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": 64,
        "stream": stream,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Say hi"}],
    })
}

fn anthropic_response() -> Value {
    json!({
        "id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Hi!"}], "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 9, "output_tokens": 3}
    })
}

/// A realistic Anthropic stream, as Bedrock relays it.
fn stream_events() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "message": {"id": "msg_bdrk_02", "type": "message", "role": "assistant",
               "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null, "stop_sequence": null,
               "usage": {"input_tokens": 9, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there — ✓"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": 4}}),
        json!({"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 9,
               "outputTokenCount": 4, "invocationLatency": 512, "firstByteLatency": 300}}),
    ]
}

fn encoded_stream(events: &[Value]) -> Vec<u8> {
    events.iter().flat_map(bedrock::encode_chunk).collect()
}

fn started_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .expect("fixed timestamp")
        .with_timezone(&Utc)
}

fn check() -> CheckConfig {
    CheckConfig {
        timeout: Duration::from_secs(10),
        slow: Duration::from_secs(5),
        ..CheckConfig::default()
    }
}

fn client() -> reqwest::Client {
    crate::http::probe_client().expect("client")
}

fn assert_no_secret(report: &ProbeReport, secrets: &[&str]) {
    let text = format!("{report:?}");
    for s in secrets {
        assert!(!text.contains(s), "report leaks a secret: {text}");
    }
}

// ---------------------------------------------------------------------------
// Bedrock requests.

#[tokio::test]
async fn bedrock_invoke_is_sigv4_signed_over_the_exact_bytes() {
    let server = MockServer::start().await;
    let keys = SigV4 {
        akid: AKID,
        secret: AWS_SECRET,
        region: REGION,
        session_token: Some(SESSION_TOKEN),
    };
    Mock::given(method("POST"))
        .and(path(format!("/model/{MODEL_IN_PATH}/invoke")))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-amzn-requestid", "rid-123")
                .set_body_json(anthropic_response()),
        )
        .expect(1)
        .mount(&server)
        .await;

    let p = bedrock_provider(&server.uri());
    let auth = upstream::bedrock::resolve_auth(&p, &credentials(MemoryStore::default(), &aws_env()))
        .await
        .expect("AWS keys from the environment");
    assert_eq!(auth.region, REGION);
    assert!(matches!(auth.credential, BedrockCredential::Aws(_)));
    assert!(!format!("{auth:?}").contains(AWS_SECRET));
    assert!(!format!("{auth:?}").contains(SESSION_TOKEN));

    let client = client();
    let request =
        upstream::bedrock::build_request(&client, &p, &auth, &anthropic_request(false), false).unwrap();
    assert!(!format!("{request:?}").contains(AWS_SECRET));
    let response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        anthropic_response(),
        "the answer is the Anthropic JSON as is"
    );

    let received = server.received_requests().await.unwrap();
    let req = &received[0];
    keys.verify(req).expect("signature verifies independently");
    let sent: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(sent["anthropic_version"], "bedrock-2023-05-31");
    assert!(
        sent.get("model").is_none() && sent.get("stream").is_none(),
        "{sent}"
    );
    assert_eq!(sent["system"], "Be brief.");
    assert_eq!(sent["messages"][0]["content"], "Say hi");

    // The verifier rejects what it should: another secret, a changed body, another region.
    let wrong_secret = SigV4 {
        secret: "not-the-secret",
        ..keys.clone()
    };
    assert!(wrong_secret.verify(req).is_err());
    let mut tampered = req.clone();
    tampered.body = br#"{"max_tokens":64000}"#.to_vec();
    assert!(keys.verify(&tampered).is_err());
    let wrong_region = SigV4 {
        region: "us-east-1",
        ..keys
    };
    assert!(wrong_region.verify(req).is_err());
}

#[tokio::test]
async fn bedrock_reads_the_shared_credentials_file_profile() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        format!(
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\n\
             [work]\naws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SECRET}\n"
        ),
    )
    .unwrap();
    let server = MockServer::start().await;
    let keys = SigV4 {
        akid: AKID,
        secret: AWS_SECRET,
        region: REGION,
        session_token: None,
    };
    Mock::given(method("POST"))
        .and(path(format!("/model/{MODEL_IN_PATH}/invoke")))
        .and(keys.clone())
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_response()))
        .expect(1)
        .mount(&server)
        .await;

    let file_str = file.to_str().unwrap();
    let creds = credentials(
        MemoryStore::default(),
        &[("AWS_SHARED_CREDENTIALS_FILE", file_str), ("AWS_PROFILE", "work")],
    );
    let p = bedrock_provider(&server.uri());
    // The keyring-backed summary knows AWS keys exist, though there is no single secret.
    let summary = creds.resolve(&p).await;
    assert_eq!(summary.source, crate::model::CredentialSource::Env);
    assert!(summary.secret.is_none());
    let auth = upstream::bedrock::resolve_auth(&p, &creds)
        .await
        .expect("keys from the file");
    let BedrockCredential::Aws(aws) = &auth.credential else {
        panic!("expected AWS keys, got {auth:?}");
    };
    assert_eq!(aws.access_key_id(), AKID);
    assert!(!aws.has_session_token());
    let client = client();
    let response = client
        .execute(
            upstream::bedrock::build_request(&client, &p, &auth, &anthropic_request(false), false).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the fake only answers a valid signature");

    // Without a file, keys or API key there is nothing to use.
    let none = credentials(
        MemoryStore::default(),
        &[("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")],
    );
    assert!(upstream::bedrock::resolve_auth(&p, &none).await.is_none());
}

#[tokio::test]
async fn bedrock_api_key_streams_with_bearer_and_no_sigv4() {
    let server = MockServer::start().await;
    let events = stream_events();
    Mock::given(method("POST"))
        .and(path(format!(
            "/model/{MODEL_IN_PATH}/invoke-with-response-stream"
        )))
        .and(header("authorization", format!("Bearer {BEDROCK_KEY}").as_str()))
        .and(header("accept", EVENT_STREAM_CONTENT_TYPE))
        .and(Unsigned)
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", EVENT_STREAM_CONTENT_TYPE)
                .set_body_bytes(encoded_stream(&events)),
        )
        .expect(1)
        .mount(&server)
        .await;

    // The key (here from the keyring) wins over AWS keys in the environment.
    let store = MemoryStore::default();
    store.set("bedrock", &Secret::new(BEDROCK_KEY)).unwrap();
    let p = bedrock_provider(&server.uri());
    let auth = upstream::bedrock::resolve_auth(&p, &credentials(store, &aws_env()))
        .await
        .unwrap();
    assert!(matches!(auth.credential, BedrockCredential::ApiKey(_)));
    // ... and so does the provider's api_key_env variable.
    let from_env = upstream::bedrock::resolve_auth(
        &p,
        &credentials(
            MemoryStore::default(),
            &[("AWS_BEARER_TOKEN_BEDROCK", BEDROCK_KEY)],
        ),
    )
    .await
    .unwrap();
    assert!(matches!(from_env.credential, BedrockCredential::ApiKey(_)));

    let client = client();
    let request =
        upstream::bedrock::build_request(&client, &p, &auth, &anthropic_request(true), true).unwrap();
    assert!(!format!("{request:?}").contains(BEDROCK_KEY));
    let mut response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut decoder = EventStreamDecoder::new();
    let mut got = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        got.extend(decoder.push(&chunk).unwrap());
    }
    decoder.finish().unwrap();
    let want: Vec<BedrockFrame> = events.into_iter().map(BedrockFrame::Event).collect();
    assert_eq!(got, want);

    let sent: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["anthropic_version"], "bedrock-2023-05-31");
    assert!(sent.get("stream").is_none() && sent.get("model").is_none());
}

#[test]
fn event_stream_decodes_split_at_every_byte_boundary() {
    let events = stream_events();
    let mut bytes = encoded_stream(&events);
    bytes.extend(bedrock::encode_exception(
        "throttlingException",
        "Too many tokens, please wait before trying again.",
    ));
    let mut want: Vec<BedrockFrame> = events.into_iter().map(BedrockFrame::Event).collect();
    want.push(BedrockFrame::Exception {
        kind: "throttlingException".into(),
        message: "Too many tokens, please wait before trying again.".into(),
    });

    for split in 0..=bytes.len() {
        let mut decoder = EventStreamDecoder::new();
        let mut got = decoder.push(&bytes[..split]).unwrap();
        got.extend(decoder.push(&bytes[split..]).unwrap());
        decoder.finish().unwrap();
        assert_eq!(got, want, "split at {split}");
    }
    // One byte at a time.
    let mut decoder = EventStreamDecoder::new();
    let got: Vec<BedrockFrame> = bytes
        .iter()
        .flat_map(|b| decoder.push(std::slice::from_ref(b)).unwrap())
        .collect();
    assert_eq!(got, want);

    // The exception reads as the Anthropic error it amounts to.
    let error = want.last().unwrap().as_error().unwrap();
    assert_eq!((error.status, error.error_type), (429, "rate_limit_error"));
    for (kind, status, error_type) in [
        ("modelStreamErrorException", 500, "api_error"),
        ("internalServerException", 500, "api_error"),
        ("serviceUnavailableException", 529, "overloaded_error"),
        ("validationException", 400, "invalid_request_error"),
    ] {
        let mut decoder = EventStreamDecoder::new();
        let frames = decoder.push(&bedrock::encode_exception(kind, "m")).unwrap();
        let mapped = frames[0].as_error().unwrap();
        assert_eq!((mapped.status, mapped.error_type), (status, error_type), "{kind}");
    }
    // A stream cut inside a frame is an error, not a quiet end.
    let mut decoder = EventStreamDecoder::new();
    decoder.push(&bytes[..bytes.len() - 3]).unwrap();
    assert!(matches!(decoder.finish(), Err(EventStreamError::Truncated)));
}

#[tokio::test]
async fn bedrock_http_errors_map_from_real_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header(
                    "x-amzn-ErrorType",
                    "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                )
                .insert_header("x-amzn-RequestId", "8a9b-rid")
                .set_body_json(json!({"message": "Too many requests, please wait before trying again."})),
        )
        .mount(&server)
        .await;
    let p = bedrock_provider(&server.uri());
    let auth = aws::resolve_auth_with(&p, Some(Secret::new(BEDROCK_KEY)), &|_| None).unwrap();
    let client = client();
    let response = client
        .execute(
            upstream::bedrock::build_request(&client, &p, &auth, &anthropic_request(false), false).unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let mapped = bedrock::error_from_response(status, &headers, &body);
    assert_eq!((mapped.status, mapped.error_type), (429, "rate_limit_error"));
    assert_eq!(mapped.upstream_type.as_deref(), Some("ThrottlingException"));
    assert_eq!(mapped.request_id.as_deref(), Some("8a9b-rid"));
    assert_eq!(
        mapped.to_anthropic_json()["error"]["message"],
        "Too many requests, please wait before trying again."
    );
}

// ---------------------------------------------------------------------------
// Vertex requests and tokens.

/// A token command: a shell script (run as `sh script`, so no exec of a file
/// just written) that counts its runs in `count` and prints `ya29.token-N`.
struct Script {
    dir: tempfile::TempDir,
}

impl Script {
    fn new(body: &str) -> Script {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token.sh"), body).unwrap();
        Script { dir }
    }

    fn counting() -> Script {
        Script::new(
            "here=$(dirname \"$0\")\necho run >> \"$here/count\"\nn=$(wc -l < \"$here/count\" | tr -d ' ')\necho \"ya29.token-$n\"\n",
        )
    }

    fn command(&self) -> Vec<String> {
        vec![
            "sh".to_string(),
            self.dir.path().join("token.sh").to_string_lossy().into_owned(),
        ]
    }

    fn command_line(&self) -> String {
        shell_words::join(self.command())
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("count"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

fn vertex_provider(base: &str, script: &Script, project: Option<&str>) -> Provider {
    let project = project
        .map(|p| format!("project = \"{p}\"\n"))
        .unwrap_or_default();
    provider(
        &format!(
            "[[providers]]\nid = \"vertex\"\nbase_url = \"{base}\"\nregion = \"us-east5\"\n{project}\
             model = \"claude-sonnet-4-5@20250929\"\ntoken_command = '{}'\n",
            script.command_line()
        ),
        "vertex",
    )
}

#[tokio::test]
async fn vertex_raw_predict_and_stream_requests() {
    let server = MockServer::start().await;
    let base =
        "/v1/projects/proj-123/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929";
    Mock::given(method("POST"))
        .and(path(format!("{base}:rawPredict")))
        .and(header("authorization", "Bearer ya29.token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_response()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}:streamRawPredict")))
        .and(header("authorization", "Bearer ya29.token-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let script = Script::counting();
    let p = vertex_provider(&server.uri(), &script, None);
    // The project comes from the environment when the config has none.
    let creds = credentials(
        MemoryStore::default(),
        &[("ANTHROPIC_VERTEX_PROJECT_ID", "proj-123")],
    );
    let target = VertexTarget::resolve(&p, &**creds.env()).unwrap();
    let token = vertex::access_token(&p, &creds).await.unwrap();
    let client = client();
    let mut body = anthropic_request(false);
    body["model"] = json!("claude-sonnet-4-5@20250929");

    let request = vertex::build_request(&client, &target, &token, &body, false).unwrap();
    assert!(!format!("{request:?}").contains("ya29"));
    let response = client.execute(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let response = client
        .execute(vertex::build_request(&client, &target, &token, &body, true).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("message_stop"));

    let received = server.received_requests().await.unwrap();
    let plain: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(plain["anthropic_version"], "vertex-2023-10-16");
    assert!(
        plain.get("model").is_none() && plain.get("stream").is_none(),
        "{plain}"
    );
    let streamed: Value = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(streamed["stream"], true);
    assert!(streamed.get("model").is_none());
    assert_eq!(script.runs(), 1, "one command run serves both requests");
}

#[tokio::test]
async fn vertex_token_is_cached_then_refreshed_after_invalidate() {
    let script = Script::counting();
    let source = TokenSource::new(script.command());
    assert_eq!(source.token().await.unwrap().expose(), "ya29.token-1");
    assert_eq!(source.clone().token().await.unwrap().expose(), "ya29.token-1");
    assert_eq!(script.runs(), 1, "the second call is served from the cache");
    source.invalidate();
    assert_eq!(source.token().await.unwrap().expose(), "ya29.token-2");
    assert_eq!(script.runs(), 2);

    // Concurrent callers share one run.
    source.invalidate();
    let results = futures::future::join_all((0..5).map(|_| source.token())).await;
    assert!(results
        .iter()
        .all(|r| r.as_ref().unwrap().expose() == "ya29.token-3"));
    assert_eq!(script.runs(), 3);

    // The cache is shared through every clone of the same Credentials.
    let creds = credentials(MemoryStore::default(), &[]);
    let p = vertex_provider("http://127.0.0.1:9", &script, Some("p"));
    let a = vertex::token_source(&p, &creds);
    let b = vertex::token_source(&p, &creds.clone());
    assert_eq!(a.token().await.unwrap().expose(), "ya29.token-4");
    assert_eq!(b.token().await.unwrap().expose(), "ya29.token-4");
    assert_eq!(script.runs(), 4);

    // An expired token is fetched again.
    let short = TokenSource::with_limits(
        script.command(),
        Duration::from_millis(50),
        Duration::from_secs(20),
    );
    assert_eq!(short.token().await.unwrap().expose(), "ya29.token-5");
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(short.token().await.unwrap().expose(), "ya29.token-6");
}

#[tokio::test]
async fn vertex_failing_token_command_is_clear_and_leaks_nothing() {
    let script = Script::new(
        "echo 'ya29.half-written-DO-NOT-LEAK'\n\
         echo 'ERROR: (gcloud.auth.print-access-token) Reauthentication failed. cannot prompt during non-interactive execution.' >&2\n\
         echo 'second line' >&2\nexit 1\n",
    );
    let source = TokenSource::new(script.command());
    let error = source.token().await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&script.command_line()), "names the command: {text}");
    assert!(
        text.contains("Reauthentication failed"),
        "first stderr line: {text}"
    );
    assert!(!text.contains("second line"), "{text}");
    assert!(text.contains("exit status 1"), "{text}");
    assert!(!text.contains("DO-NOT-LEAK"), "{text}");
    assert!(!format!("{error:?}").contains("DO-NOT-LEAK"));

    let missing = TokenSource::new(vec!["switchboard-no-such-gcloud".into(), "auth".into()]);
    assert!(matches!(
        missing.token().await,
        Err(VertexError::Token(TokenError::NotFound { .. }))
    ));
    let silent = Script::new("exit 0\n");
    let empty = TokenSource::new(silent.command());
    assert!(matches!(
        empty.token().await,
        Err(VertexError::Token(TokenError::Empty { .. }))
    ));
    let sleeper = Script::new("sleep 5\n");
    let slow = TokenSource::with_limits(
        sleeper.command(),
        Duration::from_secs(60),
        Duration::from_millis(200),
    );
    assert!(matches!(
        slow.token().await,
        Err(VertexError::Token(TokenError::Timeout { .. }))
    ));

    // A stored static token is the fallback when the command fails.
    let store = MemoryStore::default();
    store.set("vertex", &Secret::new("ya29.static")).unwrap();
    let creds = credentials(store, &[]);
    let p = vertex_provider("http://127.0.0.1:9", &script, Some("p"));
    assert_eq!(
        vertex::access_token(&p, &creds).await.unwrap().expose(),
        "ya29.static"
    );
}

// ---------------------------------------------------------------------------
// Probes.

async fn bedrock_probe_fake(response: ResponseTemplate, auth: impl wiremock::Match + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/foundation-models"))
        .and(query_param("byProvider", "anthropic"))
        .and(auth)
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn aws_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header(
            "x-amzn-ErrorType",
            format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        )
        .insert_header("x-amzn-RequestId", "rid-probe")
        .set_body_json(json!({ "message": message }))
}

#[tokio::test]
async fn bedrock_probe_classifies_signed_answers() {
    let keys = SigV4 {
        akid: AKID,
        secret: AWS_SECRET,
        region: REGION,
        session_token: Some(SESSION_TOKEN),
    };
    let ok = ResponseTemplate::new(200).set_body_json(json!({"modelSummaries": [
        {"modelArn": "arn:aws:bedrock:eu-west-3::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
         "modelId": MODEL, "providerName": "Anthropic", "modelLifecycle": {"status": "ACTIVE"}}]}));
    let rows = [
        (ok, State::Operational, None),
        (
            aws_error(
                403,
                "AccessDeniedException",
                "User: arn:aws:iam::1:user/x is not authorized to perform: bedrock:ListFoundationModels",
            ),
            State::AuthError,
            Some("AccessDeniedException"),
        ),
        (
            aws_error(500, "InternalServerException", "Internal error"),
            State::Outage,
            Some("InternalServerException"),
        ),
        (
            aws_error(503, "ServiceUnavailableException", "Service unavailable"),
            State::Outage,
            Some("ServiceUnavailableException"),
        ),
    ];
    let creds = credentials(MemoryStore::default(), &aws_env());
    for (response, state, error_type) in rows {
        let server = bedrock_probe_fake(response, keys.clone()).await;
        let p = bedrock_provider(&server.uri());
        let report = probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
            .await
            .expect("AWS keys give Bedrock a probe");
        assert_eq!(report.class.state(), state, "{report:?}");
        assert_eq!(report.error_type.as_deref(), error_type, "{report:?}");
        if error_type.is_some() {
            assert_eq!(report.request_id.as_deref(), Some("rid-probe"));
        }
        assert_no_secret(&report, &[AWS_SECRET, SESSION_TOKEN]);
    }
}

#[tokio::test]
async fn bedrock_probe_with_an_api_key_and_without_credentials() {
    let server = bedrock_probe_fake(
        ResponseTemplate::new(200).set_body_json(json!({"modelSummaries": []})),
        Unsigned,
    )
    .await;
    let p = bedrock_provider(&server.uri());
    let key = Secret::new(BEDROCK_KEY);
    let creds = credentials(MemoryStore::default(), &[]);
    let report = probe_with_credentials(&client(), &p, &creds, Some(&key), &check(), started_at())
        .await
        .unwrap();
    assert_eq!(report.class, ProbeClass::Ok, "{report:?}");
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].headers["authorization"].to_str().unwrap(),
        format!("Bearer {BEDROCK_KEY}")
    );

    // An API key the server echoes back is scrubbed from the report.
    let echo = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(aws_error(
            403,
            "AccessDeniedException",
            &format!("bad key {BEDROCK_KEY}"),
        ))
        .mount(&echo)
        .await;
    let report = probe_with_credentials(
        &client(),
        &bedrock_provider(&echo.uri()),
        &creds,
        Some(&key),
        &check(),
        started_at(),
    )
    .await
    .unwrap();
    assert_eq!(report.class.state(), State::AuthError);
    assert_no_secret(&report, &[BEDROCK_KEY]);

    // No key, no AWS keys, no credentials file: no probe at all.
    let nothing = credentials(
        MemoryStore::default(),
        &[("HOME", "/nonexistent-home-for-switchboard-tests")],
    );
    assert!(
        probe_with_credentials(&client(), &p, &nothing, None, &check(), started_at())
            .await
            .is_none()
    );
}

async fn vertex_probe_fake(response: ResponseTemplate, token: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/publishers/anthropic/models/claude-sonnet-4-5"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .and(header("x-goog-user-project", "proj-123"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

fn google_error(code: u16, status: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code)
        .set_body_json(json!({"error": {"code": code, "message": message, "status": status}}))
}

#[tokio::test]
async fn vertex_probe_classifies_answers() {
    let rows = [
        (
            ResponseTemplate::new(200)
                .set_body_json(json!({"name": "publishers/anthropic/models/claude-sonnet-4-5"})),
            State::Operational,
            None,
        ),
        (
            google_error(
                403,
                "PERMISSION_DENIED",
                "Permission 'aiplatform.endpoints.predict' denied on resource",
            ),
            State::AuthError,
            Some("PERMISSION_DENIED"),
        ),
        (
            google_error(500, "INTERNAL", "Internal error encountered."),
            State::Outage,
            Some("INTERNAL"),
        ),
        (
            google_error(503, "UNAVAILABLE", "The service is currently unavailable."),
            State::Outage,
            Some("UNAVAILABLE"),
        ),
    ];
    for (response, state, error_type) in rows {
        let script = Script::counting();
        let server = vertex_probe_fake(response, "ya29.token-1").await;
        let p = vertex_provider(&server.uri(), &script, Some("proj-123"));
        let creds = credentials(MemoryStore::default(), &[]);
        let report = probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
            .await
            .expect("a project and a token give Vertex a probe");
        assert_eq!(report.class.state(), state, "{report:?}");
        assert_eq!(report.error_type.as_deref(), error_type, "{report:?}");
        assert_no_secret(&report, &["ya29.token-1"]);
    }
}

#[tokio::test]
async fn vertex_probe_without_credentials_or_with_a_failing_command() {
    let server = vertex_probe_fake(ResponseTemplate::new(200), "ya29.token-1").await;
    let creds = credentials(MemoryStore::default(), &[]);
    let script = Script::counting();

    // No project anywhere: not set up, no probe, and gcloud is not even run.
    let p = vertex_provider(&server.uri(), &script, None);
    assert!(
        probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
            .await
            .is_none()
    );
    assert_eq!(script.runs(), 0);

    // A token command that is not installed and no stored token: no probe.
    let mut p = vertex_provider(&server.uri(), &script, Some("proj-123"));
    p.cloud.token_command = Some(vec!["switchboard-no-such-gcloud".into()]);
    assert!(
        probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
            .await
            .is_none()
    );
    // ... but a stored static token is used.
    let static_token = Secret::new("ya29.token-1");
    let report = probe_with_credentials(&client(), &p, &creds, Some(&static_token), &check(), started_at())
        .await
        .unwrap();
    assert_eq!(report.class, ProbeClass::Ok, "{report:?}");

    // A command that runs and fails is the user's credential problem.
    let failing = Script::new("echo 'ya29.DO-NOT-LEAK'\necho 'ERROR: not logged in' >&2\nexit 1\n");
    let p = vertex_provider(&server.uri(), &failing, Some("proj-123"));
    let report = probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
        .await
        .unwrap();
    assert_eq!(report.class.state(), State::AuthError);
    assert_eq!(report.error_type.as_deref(), Some("token_command_failed"));
    assert_eq!(report.http_status, None);
    let message = report.message.clone().unwrap();
    assert!(
        message.contains("not logged in") && message.contains("token.sh"),
        "{message}"
    );
    assert_no_secret(&report, &["DO-NOT-LEAK"]);
}

#[tokio::test]
async fn vertex_probe_refreshes_the_token_after_a_401() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer ya29.token-1"))
        .respond_with(google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer ya29.token-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let script = Script::counting();
    let p = vertex_provider(&server.uri(), &script, Some("proj-123"));
    let creds = credentials(MemoryStore::default(), &[]);
    let first = probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
        .await
        .unwrap();
    assert_eq!(first.class.state(), State::AuthError);
    let second = probe_with_credentials(&client(), &p, &creds, None, &check(), started_at())
        .await
        .unwrap();
    assert_eq!(second.class, ProbeClass::Ok, "{second:?}");
    assert_eq!(script.runs(), 2);
}

#[test]
fn vertex_urls_keep_the_base_prefix() {
    let p = provider(
        "[[providers]]\nid = \"vertex\"\nbase_url = \"http://127.0.0.1:9/prefix/\"\nproject = \"p\"\n",
        "vertex",
    );
    let target = VertexTarget::resolve(&p, &|_| None).unwrap();
    assert_eq!(
        target.model_url("claude-x@1", "rawPredict").as_str(),
        "http://127.0.0.1:9/prefix/v1/projects/p/locations/global/publishers/anthropic/models/claude-x@1:rawPredict"
    );
}
