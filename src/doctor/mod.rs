//! `switchboard doctor`: finds out why something is missing or failing, and
//! says how to fix it. Each check gives one [`Finding`] with a severity, the
//! facts, and a fix: the config file, the keyring, the tray host, the
//! notification server, the dashboard and gateway ports, each provider's
//! DNS / TLS / HTTP reachability and key, and the clock against a status page.
//!
//! It only looks: it changes no config, stores no key, sends no key anywhere
//! (reachability is an unauthenticated request) and never prints a key. The
//! CLI formats the report; the exit code follows `status` (0 / 1 / 2).

mod checks;

use std::path::Path;

use serde::Serialize;

use crate::credentials::Credentials;

/// How bad one finding is. The order is the exit code's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ok,
    /// Worth knowing, nothing to fix (no key: status page only).
    Info,
    /// Something works less well than it could (no tray host: no icon).
    Warning,
    /// Something is broken (bad config, port taken, provider unreachable).
    Problem,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Problem => "PROBLEM",
        }
    }
}

/// One check's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked: `config`, `keyring`, `tray`, `notifications`,
    /// `port:dashboard`, `port:gateway`, `provider:<id>`, `clock`.
    pub check: String,
    pub severity: Severity,
    /// What was found, in words.
    pub summary: String,
    /// What to do about it; `None` when nothing needs doing.
    pub fix: Option<String>,
}

impl Finding {
    pub(crate) fn new(check: impl Into<String>, severity: Severity, summary: impl Into<String>) -> Self {
        Finding {
            check: check.into(),
            severity,
            summary: summary.into(),
            fix: None,
        }
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// Everything `doctor` found, in the order checked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DoctorReport {
    pub findings: Vec<Finding>,
}

impl DoctorReport {
    pub(crate) fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }

    /// 0 nothing wrong (infos allowed), 1 warnings, 2 problems: like `status`.
    pub fn exit_code(&self) -> u8 {
        match self.worst() {
            Severity::Ok | Severity::Info => 0,
            Severity::Warning => 1,
            Severity::Problem => 2,
        }
    }
}

/// Runs every check. `config_path` is the file the app would read (it may not
/// exist: then the built-in catalog is checked).
pub async fn run(config_path: &Path, credentials: &Credentials) -> DoctorReport {
    let (config_finding, config) = checks::config(config_path);
    let mut findings = vec![config_finding];
    // An invalid file: its ports and providers are unknown, and checking the
    // defaults instead would test what the user did not configure.
    let network = async {
        match &config {
            Some(c) => {
                let (mut ports, providers) =
                    tokio::join!(checks::ports(c), checks::providers(c, credentials));
                ports.extend(providers);
                ports
            }
            None => Vec::new(),
        }
    };
    let (keyring, tray, notifications, network) = tokio::join!(
        checks::keyring(config.as_ref(), credentials),
        checks::tray(),
        checks::notifications(),
        network,
    );
    findings.push(keyring);
    findings.push(tray);
    findings.push(notifications);
    findings.extend(network);
    DoctorReport { findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(severities: &[Severity]) -> DoctorReport {
        DoctorReport {
            findings: severities.iter().map(|&s| Finding::new("x", s, "y")).collect(),
        }
    }

    #[test]
    fn exit_code_follows_the_worst_finding() {
        assert_eq!(report(&[]).exit_code(), 0);
        assert_eq!(report(&[Severity::Ok, Severity::Info]).exit_code(), 0);
        assert_eq!(
            report(&[Severity::Ok, Severity::Warning, Severity::Info]).exit_code(),
            1
        );
        assert_eq!(report(&[Severity::Problem, Severity::Warning]).exit_code(), 2);
    }
}
