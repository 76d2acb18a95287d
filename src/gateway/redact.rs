//! Scrubbing the keys a request was sent with out of what comes back, for
//! the stream path: an upstream that echoes the key inside a stream error
//! event ("invalid x-api-key sk-ant-…") must not make the gateway hand it to
//! the client, a log line or the dashboard. The non-stream path scrubs the
//! same way through [`Failure::redact`].

use super::upstream::Failure;

/// What replaces a secret.
const REDACTED: &str = "<redacted>";

/// The secrets of one upstream call, owned so a stream's relay task can keep
/// them. `Debug` never prints them.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub(crate) fn new(secrets: &[&str]) -> Self {
        Redactor {
            secrets: secrets
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    /// `text` with every secret replaced.
    pub(crate) fn text(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |t, s| {
            if t.contains(s.as_str()) {
                t.replace(s.as_str(), REDACTED)
            } else {
                t
            }
        })
    }

    pub(crate) fn failure(&self, failure: Failure) -> Failure {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        failure.redact(&secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_and_never_debugged() {
        let r = Redactor::new(&["sk-ant-secret-1", "  ", "tok-2"]);
        assert_eq!(
            r.text("bad key sk-ant-secret-1 / tok-2"),
            "bad key <redacted> / <redacted>"
        );
        assert!(!format!("{r:?}").contains("sk-ant"));
    }
}
