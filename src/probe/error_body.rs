//! Reading an error answer in any provider's format, plus the HTML and plain-text
//! pages that proxies and CDNs put in front of them.
//!
//! Pure and forgiving: every field is optional, an unknown shape yields what could
//! be read (often just a message), and nothing here fails. Deciding what the error
//! *means* is `classify`'s job; this module only extracts words.

use serde_json::{Map, Value};

/// Longest message kept from a body: room for any provider's error sentence,
/// short enough for a tray tooltip, a notification and one table row.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// `@type` suffix of Gemini's `google.rpc.ErrorInfo` detail (carries `reason`).
const ERROR_INFO: &str = "google.rpc.ErrorInfo";
/// `@type` suffix of Gemini's `google.rpc.RetryInfo` detail (carries `retryDelay`).
const RETRY_INFO: &str = "google.rpc.RetryInfo";

/// What an error body says, normalised across formats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    /// The most telling machine word: Gemini's ErrorInfo `reason` (API_KEY_INVALID),
    /// then Gemini's `status` (RESOURCE_EXHAUSTED), then OpenAI's string `code`
    /// (insufficient_quota, invalid_api_key), then `type` (Anthropic, OpenAI).
    pub(crate) error_type: Option<String>,
    pub(crate) message: Option<String>,
    /// Body `request_id` (Anthropic's envelope).
    pub(crate) request_id: Option<String>,
    /// Gemini's `RetryInfo.retryDelay`, rounded up to whole seconds.
    pub(crate) retry_delay_secs: Option<u64>,
    /// Every machine word seen (type, code, status, reasons), so that rules such as
    /// "insufficient_quota anywhere" do not depend on which one won `error_type`.
    pub(crate) words: Vec<String>,
}

impl ErrorBody {
    /// Parses `body` as whatever it is: provider JSON, a proxy's HTML page, or
    /// plain text. `status` lets an HTML title drop its redundant "502".
    pub(crate) fn parse(status: u16, content_type: Option<&str>, body: &[u8]) -> ErrorBody {
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return ErrorBody::default();
        }
        if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
            return match value {
                Value::Object(root) => from_json(&root),
                Value::String(s) => ErrorBody {
                    message: clean(&s),
                    ..ErrorBody::default()
                },
                _ => ErrorBody {
                    message: clean(trimmed),
                    ..ErrorBody::default()
                },
            };
        }
        let message = if looks_like_html(content_type, trimmed) {
            html_message(trimmed, status)
        } else {
            clean(trimmed)
        };
        ErrorBody {
            message,
            ..ErrorBody::default()
        }
    }

    /// Whether any machine word in the body equals `word` (case-insensitive).
    pub(crate) fn has_word(&self, word: &str) -> bool {
        self.words.iter().any(|w| w.eq_ignore_ascii_case(word))
    }
}

/// Reads the provider JSON envelopes:
/// Anthropic `{"type":"error","error":{"type","message"},"request_id"}`;
/// OpenAI `{"error":{"message","type","param","code"}}`;
/// Gemini `{"error":{"code","message","status","details":[...]}}`;
/// OpenRouter `{"error":{"code":401,"message"}}`; Ollama `{"error":"..."}`;
/// AWS (Bedrock) `{"message"}` or `{"__type":"...#AccessDeniedException","Message"}`
/// (the type usually travels in `x-amzn-ErrorType`, which `classify` reads);
/// and, for OpenAI-compatible servers and gateways, top-level
/// `{"message","type","code"}` (vLLM, API gateways) or `{"detail"}` (FastAPI).
fn from_json(root: &Map<String, Value>) -> ErrorBody {
    let mut out = ErrorBody {
        request_id: str_field(root, "request_id"),
        ..ErrorBody::default()
    };
    let fields = match root.get("error") {
        Some(Value::Object(error)) => error,
        Some(Value::String(message)) => {
            out.message = clean(message);
            return out;
        }
        // No `error` envelope: the fields, if any, sit at the top level.
        _ => root,
    };

    // AWS JSON protocols name the error as `namespace#Name` in `__type`.
    let kind = str_field(fields, "type").or_else(|| {
        str_field(fields, "__type").map(|t| {
            let name = t.rsplit('#').next().unwrap_or(&t);
            name.split(':').next().unwrap_or(name).to_string()
        })
    });
    // OpenAI's `code` is a word; OpenRouter's and Gemini's is the HTTP status again.
    let code = str_field(fields, "code");
    let status = str_field(fields, "status");
    let mut reason = None;
    if let Some(Value::Array(details)) = fields.get("details") {
        for detail in details.iter().filter_map(Value::as_object) {
            let at_type = str_field(detail, "@type").unwrap_or_default();
            if at_type.ends_with(ERROR_INFO) || detail.contains_key("reason") {
                if let Some(r) = str_field(detail, "reason") {
                    out.words.push(r.clone());
                    reason.get_or_insert(r);
                }
            }
            if at_type.ends_with(RETRY_INFO) || detail.contains_key("retryDelay") {
                out.retry_delay_secs = out
                    .retry_delay_secs
                    .or_else(|| str_field(detail, "retryDelay").and_then(|d| proto_duration_secs(&d)));
            }
        }
    }
    out.words
        .extend([&kind, &code, &status].into_iter().flatten().cloned());
    out.error_type = reason.or(status).or(code).or(kind);
    out.message = str_field(fields, "message")
        .or_else(|| str_field(fields, "Message"))
        .or_else(|| str_field(fields, "detail"))
        .and_then(|m| clean(&m));
    out
}

/// A non-empty string field. Numbers are not words, so `"code": 401` is skipped.
fn str_field(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// Seconds in a protobuf JSON duration ("41s", "0.5s", "1.250s"), rounded up so
/// that waiting the returned time is always enough.
pub(crate) fn proto_duration_secs(text: &str) -> Option<u64> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| secs.ceil() as u64)
}

fn looks_like_html(content_type: Option<&str>, text: &str) -> bool {
    content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html")) || text.starts_with('<')
}

/// The readable part of an HTML error page: its `<title>`, else its first `<h1>`,
/// else its text with the tags stripped.
fn html_message(html: &str, status: u16) -> Option<String> {
    if let Some(title) = element_text(html, "title").and_then(|t| clean(&decode_entities(&t))) {
        return Some(without_status(&title, status).to_string());
    }
    if let Some(h1) = element_text(html, "h1").and_then(|t| clean(&decode_entities(&strip_tags(&t)))) {
        return Some(without_status(&h1, status).to_string());
    }
    clean(&decode_entities(&strip_tags(html)))
}

/// The raw inner text of the first `<tag ...>...</tag>`, case-insensitively.
fn element_text(html: &str, tag: &str) -> Option<String> {
    // ASCII lowercasing keeps byte offsets, so indices found in `lower` slice `html`.
    let lower = html.to_ascii_lowercase();
    let open = lower.find(&format!("<{tag}"))?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find(&format!("</{tag}"))?;
    Some(html[start..end].to_string())
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The handful of entities error pages use; anything else is left as written.
fn decode_entities(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#039;", "'")
        .replace("&amp;", "&")
}

/// Drops the status code a page title repeats, since the report already carries
/// it: "502 Bad Gateway" → "Bad Gateway", Cloudflare's
/// "api.example.com | 502: Bad gateway" → "Bad gateway".
fn without_status(title: &str, status: u16) -> &str {
    let code = status.to_string();
    let segment = title
        .rsplit('|')
        .map(str::trim)
        .find(|s| s.contains(code.as_str()))
        .unwrap_or(title);
    let rest = segment
        .strip_prefix("Error ")
        .or_else(|| segment.strip_prefix("error "))
        .unwrap_or(segment);
    rest.strip_prefix(code.as_str())
        .map(|r| r.trim_start_matches([':', '-', '.', ' ']).trim())
        .filter(|r| !r.is_empty())
        .unwrap_or(segment)
}

/// Collapses whitespace, turns control characters (NUL, ESC, BEL: a proxy's page
/// or a broken upstream can send any) into spaces, and truncates to
/// [`MAX_MESSAGE_CHARS`] on a character boundary; `None` when nothing readable
/// is left. The result reaches notifications, the history and the dashboard,
/// which do not escape it the way the terminal output does.
pub(crate) fn clean(text: &str) -> Option<String> {
    let visible: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return None;
    }
    match collapsed.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => Some(format!("{}…", &collapsed[..cut])),
        None => Some(collapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ErrorBody {
        ErrorBody::parse(status, Some("application/json"), body.as_bytes())
    }

    #[test]
    fn control_characters_never_survive_into_the_message() {
        let b = ErrorBody::parse(
            502,
            Some("text/html"),
            b"<title>\x1b[2J\x1b]0;pwned\x07 Bad\x00Gateway</title>",
        );
        let m = b.message.unwrap();
        assert!(!m.chars().any(char::is_control), "{m:?}");
        assert!(m.contains("Bad Gateway"), "{m:?}");
        let b = parse(500, "{\"error\":{\"message\":\"a\\u0000b\\u001b[31mc\"}}");
        assert_eq!(b.message.as_deref(), Some("a b [31mc"));
        // A 200 whose body is not the API (classify's web-page message) goes through here too.
        assert_eq!(clean("\0{\"x\":1}\0").as_deref(), Some("{\"x\":1}"));
    }

    #[test]
    fn anthropic_envelope() {
        let b = parse(
            500,
            r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("api_error"));
        assert_eq!(b.message.as_deref(), Some("Internal server error"));
        assert_eq!(b.request_id.as_deref(), Some("req_011CSHoEeqs5C35K2UUqR7Fy"));
        assert_eq!(b.retry_delay_secs, None);
    }

    #[test]
    fn openai_code_wins_over_generic_type() {
        let b = parse(
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-proj-****abcd.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("invalid_api_key"));
        assert!(b.has_word("invalid_request_error"));
        let b = parse(
            429,
            r#"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("rate_limit_exceeded"));
        let b = parse(
            500,
            r#"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("server_error"));
    }

    #[test]
    fn gemini_reason_and_retry_info() {
        let b = parse(
            400,
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("API_KEY_INVALID"));
        assert!(b.has_word("INVALID_ARGUMENT"));
        assert_eq!(
            b.message.as_deref(),
            Some("API key not valid. Please pass a valid API key.")
        );
        let b = parse(
            429,
            r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"41s"}]}}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(b.retry_delay_secs, Some(41));
    }

    #[test]
    fn openrouter_numeric_code_is_not_a_word() {
        let b = parse(402, r#"{"error":{"code":402,"message":"Insufficient credits"}}"#);
        assert_eq!(b.error_type, None);
        assert_eq!(b.message.as_deref(), Some("Insufficient credits"));
        assert!(b.words.is_empty());
    }

    #[test]
    fn ollama_string_error_and_other_shapes() {
        assert_eq!(
            parse(500, r#"{"error":"model runner has unexpectedly stopped"}"#)
                .message
                .as_deref(),
            Some("model runner has unexpectedly stopped")
        );
        let vllm = parse(
            404,
            r#"{"object":"error","message":"The model does not exist.","type":"NotFoundError","param":null,"code":404}"#,
        );
        assert_eq!(vllm.error_type.as_deref(), Some("NotFoundError"));
        assert_eq!(vllm.message.as_deref(), Some("The model does not exist."));
        assert_eq!(
            parse(404, r#"{"detail":"Not Found"}"#).message.as_deref(),
            Some("Not Found")
        );
        assert_eq!(
            parse(403, r#"{"message":"Forbidden"}"#).message.as_deref(),
            Some("Forbidden")
        );
        assert_eq!(parse(500, r#""oops""#).message.as_deref(), Some("oops"));
        assert_eq!(parse(500, "[1,2]").message.as_deref(), Some("[1,2]"));
        assert_eq!(parse(500, "  \n "), ErrorBody::default());
    }

    #[test]
    fn aws_json_errors() {
        let b = parse(
            403,
            r#"{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"User is not authorized"}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("AccessDeniedException"));
        assert_eq!(b.message.as_deref(), Some("User is not authorized"));
        let b = parse(
            429,
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!(b.error_type, None);
        assert_eq!(
            b.message.as_deref(),
            Some("Too many requests, please wait before trying again.")
        );
    }

    #[test]
    fn html_pages_give_their_title_without_the_code() {
        let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(
            ErrorBody::parse(502, Some("text/html"), nginx.as_bytes())
                .message
                .as_deref(),
            Some("Bad Gateway")
        );
        let cloudflare =
            "<!DOCTYPE html><html><head><TITLE>api.example.com | 502: Bad gateway</TITLE></head></html>";
        assert_eq!(
            ErrorBody::parse(502, None, cloudflare.as_bytes())
                .message
                .as_deref(),
            Some("Bad gateway")
        );
        let h1_only = "<html><body><h1>Service <b>Unavailable</b></h1><p>try later</p></body></html>";
        assert_eq!(
            ErrorBody::parse(503, Some("text/html"), h1_only.as_bytes())
                .message
                .as_deref(),
            Some("Service Unavailable")
        );
        let bare = "<html><body><p>Gateway &amp; proxy   timeout</p></body></html>";
        assert_eq!(
            ErrorBody::parse(504, Some("text/html"), bare.as_bytes())
                .message
                .as_deref(),
            Some("Gateway & proxy timeout")
        );
        // A title that is only the code keeps the code rather than becoming empty.
        let only_code = "<html><title>502</title></html>";
        assert_eq!(
            ErrorBody::parse(502, None, only_code.as_bytes())
                .message
                .as_deref(),
            Some("502")
        );
    }

    #[test]
    fn plain_text_is_collapsed_and_truncated() {
        let b = ErrorBody::parse(
            503,
            Some("text/plain"),
            b"upstream connect error or disconnect/reset before headers. reset reason: overflow\n",
        );
        assert_eq!(
            b.message.as_deref(),
            Some("upstream connect error or disconnect/reset before headers. reset reason: overflow")
        );
        let long = "é".repeat(MAX_MESSAGE_CHARS + 50);
        let msg = ErrorBody::parse(500, None, long.as_bytes()).message.unwrap();
        assert_eq!(msg.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(msg.ends_with('…'));
        // Invalid UTF-8 is read lossily, never a failure.
        let b = ErrorBody::parse(500, None, b"bad \xff byte");
        assert_eq!(b.message.as_deref(), Some("bad \u{fffd} byte"));
    }

    #[test]
    fn proto_durations_round_up() {
        assert_eq!(proto_duration_secs("41s"), Some(41));
        assert_eq!(proto_duration_secs("0.2s"), Some(1));
        assert_eq!(proto_duration_secs("1.000s"), Some(1));
        assert_eq!(proto_duration_secs("41"), None);
        assert_eq!(proto_duration_secs("-3s"), None);
        assert_eq!(proto_duration_secs("NaNs"), None);
    }
}
