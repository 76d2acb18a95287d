//! The `switchboard` command line: the edge where engine errors become messages
//! and exit codes (monitoring-plugin convention for `status`).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use switchboard::text::escape_control;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use switchboard::check::{self, Checker};
use switchboard::config::{self, Config, ConfigError};
use switchboard::config_edit;
use switchboard::credentials::Credentials;
use switchboard::engine::Event;
use switchboard::model::{CredentialSource, ProviderReport, State, StatusReport};
use switchboard::secrets::{Secret, SERVICE};

/// Exit code for a config the user must fix (and for usage errors, like clap).
const EXIT_CONFIG: u8 = 2;
/// Exit code for other failures (monitoring plugins read 3 as UNKNOWN).
const EXIT_FAILURE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version = switchboard::VERSION,
    about = "Know your LLM provider is failing before its status page does."
)]
struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/switchboard/config.toml).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// More logging (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every provider now (probes and status pages, concurrently).
    ///
    /// Exit code: 0 all operational, 1 degraded or rate limited, 2 outage or
    /// credential problem, 3 unknown or offline.
    Status {
        /// Print JSON (the same shape as GET /api/status).
        #[arg(long)]
        json: bool,
        /// Only this provider (repeatable).
        #[arg(long = "provider", value_name = "ID")]
        providers: Vec<String>,
        /// Also send one inference check (a 1-token request) to each model
        /// now, whatever `[inference].enabled` says.
        #[arg(long)]
        inference: bool,
    },
    /// Run the engine headless until interrupted: dashboard, JSON API and
    /// metrics on [server].listen, the failover gateway on [gateway].listen,
    /// history recorded, state changes logged.
    Watch {
        /// Serve on a non-loopback [server].listen and [gateway].listen (for a
        /// team's Prometheus or a shared gateway). The API can change keys:
        /// only do this on a trusted network.
        #[arg(long)]
        allow_remote: bool,
        /// Also raise desktop notifications: when an outage begins and ends, and
        /// when a provider rejects your key. Without a notification server the
        /// notices are logged and watching goes on.
        #[arg(long)]
        notify: bool,
    },
    /// Manage API keys in the OS keyring (service "switchboard", account = provider id).
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Make ID the preferred provider (writes the config, keeping its comments).
    Prefer { id: String },
    /// Uptime (24 h, 7 d, 30 d) and incidents, from the history `watch` records.
    History {
        /// How far back to list incidents: a number and a unit, like 30m, 24h, 7d or 90d.
        #[arg(long, default_value = "24h", value_parser = switchboard::store::parse_since)]
        since: std::time::Duration,
        /// Print JSON (the same shape as GET /api/history).
        #[arg(long)]
        json: bool,
    },
    /// List the configured providers.
    Providers,
    /// Find out why something is missing or failing, with the fix for each:
    /// config, keyring, tray host, notification server, ports, each provider's
    /// reachability and key (never shown), and the clock.
    ///
    /// Exit code: 0 nothing wrong, 1 warnings, 2 problems.
    Doctor {
        /// Print JSON: {"findings": [{"check", "severity", "summary", "fix"}]}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Store a key: read from standard input, or asked for without echo on a terminal.
    Set { id: String },
    /// Remove a stored key.
    Delete { id: String },
    /// Show where each provider's key comes from (never the key).
    List,
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    init_logging(&cli);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let code = if err.downcast_ref::<ConfigError>().is_some() {
                EXIT_CONFIG
            } else {
                EXIT_FAILURE
            };
            eprintln!("switchboard: {err:#}");
            ExitCode::from(code)
        }
    }
}

/// `switchboard status | head` should end quietly like any Unix tool. Rust
/// ignores SIGPIPE, which turns a closed stdout into a `println!` panic.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists;
    // resetting a signal to its default disposition has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_logging(cli: &Cli) {
    let default = match (&cli.command, cli.verbose) {
        (_, 2..) => "switchboard=debug,info",
        (Command::Watch { .. }, _) | (_, 1) => "switchboard=info,warn",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only on a terminal: a log file or the journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn config_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    config::resolve_path(cli.config.as_deref()).context("cannot find a config directory (is HOME set?)")
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let path = config_path(cli)?;
    Ok(Config::load(&path)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Status {
            json,
            providers,
            inference,
        } => status(&cli, *json, providers, *inference),
        Command::Watch { allow_remote, notify } => watch(&cli, *allow_remote, *notify),
        Command::Key { action } => key(&cli, action),
        Command::Prefer { id } => prefer(&cli, id),
        Command::History { since, json } => history(&cli, *since, *json),
        Command::Providers => list_providers(&cli),
        Command::Doctor { json } => doctor(&cli, *json),
    }
}

fn doctor(cli: &Cli, json: bool) -> anyhow::Result<u8> {
    let path = config_path(cli)?;
    let report = runtime()?.block_on(switchboard::doctor::run(&path, &Credentials::system()));
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(report.exit_code());
    }
    for f in &report.findings {
        println!(
            "{:<8} {:<20} {}",
            f.severity.label(),
            escape_control(&f.check),
            escape_control(&f.summary)
        );
        if let Some(fix) = &f.fix {
            println!("{:<8} {:<20} fix: {}", "", "", escape_control(fix));
        }
    }
    let count = |s| report.findings.iter().filter(|f| f.severity == s).count();
    use switchboard::doctor::Severity;
    println!(
        "\n{} problems, {} warnings",
        count(Severity::Problem),
        count(Severity::Warning)
    );
    Ok(report.exit_code())
}

fn status(cli: &Cli, json: bool, only: &[String], force_inference: bool) -> anyhow::Result<u8> {
    let config = load_config(cli)?;
    for id in only {
        if config.provider(id).is_none() {
            bail!("unknown provider {id:?} (see `switchboard providers`)");
        }
    }
    let selected: Vec<_> = if only.is_empty() {
        config.enabled_providers().collect()
    } else {
        config.providers.iter().filter(|p| only.contains(&p.id)).collect()
    };
    let rt = runtime()?;
    let report = rt.block_on(async {
        let checker = Checker::new(Credentials::system())?;
        let now = chrono::Utc::now();
        use switchboard::health::budget::SpendLedger;
        use switchboard::store::{Ledger, SqliteStore};
        let db_path = switchboard::store::default_path();
        let month = switchboard::health::budget::month_of(now);
        // Read without creating: a plain `status` leaves no files behind.
        let spent = db_path
            .as_ref()
            .and_then(|path| SqliteStore::open_existing(path).ok().flatten())
            .map_or(0.0, |db| Ledger(std::sync::Arc::new(db)).spent(&month));
        let budget = config.inference.monthly_budget_usd;
        // Over budget, only an explicit --inference still sends one.
        let run_inference = force_inference || (config.inference.enabled && spent < budget);
        let jobs: Vec<check::InferenceJob> = if run_inference {
            selected
                .iter()
                .filter(|p| p.kind != switchboard::model::ProviderKind::Status)
                .flat_map(|p| {
                    p.watched_models().into_iter().map(|model| check::InferenceJob {
                        provider: (*p).clone(),
                        model,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let (round, inference) = tokio::join!(
            checker.run(&selected, &config.check, true, now),
            checker.inference(&jobs, &config.check, now),
        );
        let cost: f64 = inference.iter().map(|r| r.check.cost_usd).sum();
        if cost > 0.0 {
            match db_path.as_ref().map(SqliteStore::open) {
                Some(Ok(db)) => Ledger(std::sync::Arc::new(db)).add_spent(&month, cost),
                Some(Err(e)) => tracing::warn!("cannot record the inference spend: {e}"),
                None => {}
            }
        }
        let status = switchboard::model::InferenceStatus {
            enabled: config.inference.enabled || force_inference,
            spent_usd_month: spent + cost,
            budget_usd_month: budget,
            stopped: config.inference.enabled && spent + cost >= budget,
            interval_secs: config.inference.interval.as_secs(),
        };
        anyhow::Ok(check::one_shot_report_with(
            &config,
            &selected,
            &round,
            &inference,
            Some(status),
        ))
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(report.overall.exit_code())
}

/// Width of a table's first column: its widest entry, and at least 8.
fn column_width<'a>(entries: impl Iterator<Item = &'a str>) -> usize {
    entries.map(|e| e.chars().count()).max().unwrap_or(8).max(8)
}

fn print_table(report: &StatusReport) {
    let model_names: Vec<String> = report
        .providers
        .iter()
        .flat_map(|p| p.models.iter().filter(|m| m.probe.is_some()))
        .map(|m| format!("  - {}", m.id))
        .collect();
    let name_w = column_width(
        report
            .providers
            .iter()
            .map(|p| p.name.as_str())
            .chain(model_names.iter().map(String::as_str)),
    );
    println!(
        "{:<name_w$}  {:<18}  {:>8}  SUMMARY",
        "PROVIDER", "STATE", "LATENCY"
    );
    for p in &report.providers {
        let marker = if report.preferred.as_deref() == Some(p.id.as_str()) {
            " *"
        } else {
            ""
        };
        println!(
            "{:<name_w$}  {:<18}  {:>8}  {}",
            p.name,
            p.state.label(),
            p.probe
                .as_ref()
                .and_then(|r| r.latency_ms.map(|ms| format!("{ms} ms")))
                .unwrap_or_else(|| "-".into()),
            // Status-page text is someone else's: no escape sequences or forged lines.
            escape_control(&(describe(p) + marker))
        );
        // Which model fails: one line per model once inference checks ran.
        for m in p.models.iter().filter(|m| m.probe.is_some()) {
            println!(
                "{:<name_w$}  {:<18}  {:>8}  {}",
                format!("  - {}", m.id),
                m.state.label(),
                m.probe
                    .as_ref()
                    .and_then(|r| r.latency_ms.map(|ms| format!("{ms} ms")))
                    .unwrap_or_else(|| "-".into()),
                escape_control(&m.summary)
            );
        }
    }
    if let Some(inference) = report.providers.iter().find_map(|p| p.inference.as_ref()) {
        println!("\n{}", inference.describe());
    }
    println!("\noverall: {} (* preferred)", report.overall.label());
}

/// The summary plus what a person needs next: the request id, whether the page knows.
fn describe(p: &ProviderReport) -> String {
    let mut s = p.summary.clone();
    if let Some(id) = p.probe.as_ref().and_then(|r| r.request_id.as_deref()) {
        if p.state != State::Operational {
            s.push_str(&format!(" (request {id})"));
        }
    }
    if p.state.is_failing() && p.state != State::AuthError && p.probe.is_some() && !p.confirmed_by_status_page
    {
        s.push_str(" - not yet on the status page");
    }
    s
}

fn watch(cli: &Cli, allow_remote: bool, notify: bool) -> anyhow::Result<u8> {
    let config = load_config(cli)?;
    let rt = runtime()?;
    rt.block_on(async {
        let options = switchboard::app::Options { allow_remote, notify };
        let running = switchboard::app::start(config, options).await?;
        tracing::info!("Ctrl-C to stop");
        let log = tokio::spawn(log_events(running.engine.subscribe()));
        let result = running.run_until(shutdown_signal()).await;
        log.abort();
        result
    })?;
    Ok(0)
}

/// Prints incidents and state changes as they happen (the log of `watch`).
async fn log_events(mut events: tokio::sync::broadcast::Receiver<Event>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(Event::IncidentOpened { id, incident }) => {
                println!(
                    "{} {id}: began: {}",
                    incident.detected_at.to_rfc3339(),
                    escape_control(&incident.cause)
                )
            }
            Ok(Event::IncidentClosed { id, incident }) => println!(
                "{} {id}: ended after {} min",
                incident.ended_at.unwrap_or(incident.detected_at).to_rfc3339(),
                incident
                    .ended_at
                    .map(|e| (e - incident.started_at).num_minutes())
                    .unwrap_or(0)
            ),
            Ok(Event::StateChanged { id, from, to }) => {
                println!("{} {id}: {from} -> {to}", chrono::Utc::now().to_rfc3339())
            }
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => break,
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn key(cli: &Cli, action: &KeyAction) -> anyhow::Result<u8> {
    let config = load_config(cli)?;
    let creds = Credentials::system();
    let known = |id: &str| -> anyhow::Result<()> {
        match config.provider(id) {
            Some(p) if !p.needs_key() => bail!("provider {id:?} needs no key"),
            Some(_) => Ok(()),
            None => bail!("unknown provider {id:?} (see `switchboard providers`)"),
        }
    };
    match action {
        KeyAction::Set { id } => {
            known(id)?;
            let secret = read_secret(id)?;
            creds
                .store()
                .set(id, &secret)
                .with_context(|| format!("could not store the key for {id}"))?;
            println!("Stored the key for {id} in the keyring (service {SERVICE:?}, account {id:?}).");
            if std::io::stdin().is_terminal() {
                if let Some(p) = config.provider(id) {
                    offer_inference(&config, p)?;
                }
            }
        }
        KeyAction::Delete { id } => {
            known(id)?;
            let deleted = creds
                .store()
                .delete(id)
                .with_context(|| format!("could not delete the key for {id}"))?;
            if deleted {
                println!("Deleted the key for {id} from the keyring.");
            } else {
                println!("No key for {id} was stored in the keyring.");
            }
        }
        KeyAction::List => {
            let w = column_width(config.providers.iter().map(|p| p.id.as_str()));
            println!("{:<w$}  {:<10}  ENV VARIABLE", "PROVIDER", "KEY");
            let mut keyring_error = None;
            for p in &config.providers {
                let c = creds.resolve_blocking(p);
                if keyring_error.is_none() {
                    keyring_error = c.keyring_error.clone();
                }
                let source = match c.source {
                    CredentialSource::Keyring => "keyring",
                    CredentialSource::Env => "env",
                    CredentialSource::None => "none",
                    CredentialSource::NotNeeded => "not needed",
                    CredentialSource::Unavailable => "unavailable",
                };
                println!(
                    "{:<w$}  {:<10}  {}",
                    p.id,
                    source,
                    p.api_key_env.as_deref().unwrap_or("-")
                );
            }
            if let Some(e) = keyring_error {
                eprintln!("note: {e}");
            }
        }
    }
    Ok(0)
}

/// After a key is stored at a terminal: "Also check that <model> answers?",
/// with the estimated monthly cost, and `[inference] enabled = true` written
/// only on an explicit yes.
fn offer_inference(
    config: &switchboard::config::Config,
    p: &switchboard::config::Provider,
) -> anyhow::Result<()> {
    let Some(model) = p.watched_models().into_iter().next() else {
        return Ok(());
    };
    if config.inference.enabled {
        return Ok(());
    }
    let secs = config.inference.interval.as_secs();
    let cost = switchboard::probe::prices::monthly_estimate(p, &model, secs);
    print!(
        "Also check that {model} answers (a 1-token request every {secs} s, about ${cost:.2} a month,          capped at ${:.2})? [y/N] ",
        config.inference.monthly_budget_usd
    );
    std::io::Write::flush(&mut std::io::stdout())?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        println!("Reachability only: the model list is checked, not whether {model} answers.");
        return Ok(());
    }
    let Some(path) = config.path.as_deref() else {
        bail!("no config file to save the setting in");
    };
    switchboard::config_edit::set_inference(path, true, None, None)
        .context("could not turn the inference checks on")?;
    println!(
        "Inference checks on ([inference] enabled = true in {}).",
        path.display()
    );
    Ok(())
}

/// Reads a secret from stdin (piped) or a no-echo prompt (terminal).
fn read_secret(id: &str) -> anyhow::Result<Secret> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("API key for {id} (input hidden): "))
            .context("could not read the key from the terminal")?
    } else {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("could not read the key from standard input")?;
        s
    };
    let value = value.trim();
    if value.is_empty() {
        bail!("no key given (pipe it in, or type it at the prompt)");
    }
    Ok(Secret::new(value))
}

fn prefer(cli: &Cli, id: &str) -> anyhow::Result<u8> {
    let path = config_path(cli)?;
    let config = Config::load(&path)?;
    match config.provider(id) {
        None => bail!("unknown provider {id:?} (see `switchboard providers`)"),
        Some(p) if !p.enabled => bail!("provider {id:?} is disabled in {}", path.display()),
        Some(_) => {}
    }
    config_edit::set_preferred(&path, id)?;
    println!("Preferred provider: {id} (written to {}).", path.display());
    Ok(0)
}

fn list_providers(cli: &Cli) -> anyhow::Result<u8> {
    let config = load_config(cli)?;
    let w = column_width(config.providers.iter().map(|p| p.id.as_str()));
    println!(
        "{:<w$}  {:<18}  {:<22}  {:<8}  STATUS PAGE",
        "ID", "KIND", "NAME", "ENABLED"
    );
    for p in &config.providers {
        let kind = p.kind.as_str();
        let star = if config.preferred.as_deref() == Some(p.id.as_str()) {
            "*"
        } else {
            ""
        };
        println!(
            "{:<w$}  {:<18}  {:<22}  {:<8}  {}",
            format!("{}{star}", p.id),
            kind,
            p.name,
            if p.enabled { "yes" } else { "no" },
            p.status_page
                .as_ref()
                .map(|s| s.url.to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    println!("\n* preferred; fallback order: {}", config.fallback.join(", "));
    Ok(0)
}

/// `switchboard history`: reads the store `watch` writes; never creates it.
fn history(cli: &Cli, since: std::time::Duration, json: bool) -> anyhow::Result<u8> {
    use switchboard::store::{self, MemoryStore, SqliteStore};
    let config = load_config(cli)?;
    let providers: Vec<(String, String)> = config
        .enabled_providers()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let max_gap = store::max_gap_for(config.check.interval);
    let now = chrono::Utc::now();
    let from = now - chrono::TimeDelta::from_std(since).context("--since is too long")?;
    let path = store::default_path().context("cannot find a data directory (is HOME set?)")?;
    let db = SqliteStore::open_existing(&path)
        .with_context(|| format!("cannot read the history in {}", path.display()))?;
    let report = match db {
        Some(db) => store::history_report_with(&db, &providers, from, now, max_gap)?,
        None if json => store::history_report_with(&MemoryStore::new(), &providers, from, now, max_gap)?,
        None => {
            println!("no history yet: run `switchboard watch`");
            return Ok(0);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_history(&report, since);
    }
    Ok(0)
}

fn print_history(report: &switchboard::store::HistoryReport, since: std::time::Duration) {
    let pct = |u: Option<f64>| match u {
        // Rounded down: 99.999 % is not 100 %.
        Some(u) => format!("{:.2}%", (u * 100.0).floor() / 100.0),
        None => "-".to_string(),
    };
    let minutes = |m: i64| switchboard::model::duration_words(chrono::TimeDelta::minutes(m));
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M");
    let window = short_duration(since);
    let w = column_width(report.providers.iter().map(|p| p.name.as_str()));
    let incidents_col = format!("INCIDENTS ({window})");
    println!(
        "{:<w$}  {:>8}  {:>8}  {:>8}  {incidents_col}  AHEAD OF STATUS PAGE",
        "PROVIDER", "24H", "7D", "30D"
    );
    for p in &report.providers {
        println!(
            "{:<w$}  {:>8}  {:>8}  {:>8}  {:<width$}  {}",
            p.name,
            pct(p.uptime.day),
            pct(p.uptime.week),
            pct(p.uptime.month),
            p.incidents.len(),
            p.detection_lead_minutes.map_or_else(|| "-".to_string(), minutes),
            width = incidents_col.len()
        );
    }
    let all: Vec<_> = report
        .providers
        .iter()
        .flat_map(|p| p.incidents.iter().map(move |i| (p, i)))
        .collect();
    if all.is_empty() {
        println!("\nNo incidents in the last {window}.");
        return;
    }
    println!("\nIncidents in the last {window}:");
    for (p, i) in all {
        let r = &i.record;
        let duration = match r.ended_at {
            Some(end) => minutes((end - r.started_at).num_minutes()),
            None => format!(
                "ongoing, {} so far",
                minutes((report.until - r.started_at).num_minutes())
            ),
        };
        println!(
            "  {}  {}  {}  ({})",
            local(r.started_at),
            p.name,
            r.state.label(),
            duration
        );
        let request = r
            .request_id
            .as_deref()
            .map(|id| format!(" (request {id})"))
            .unwrap_or_default();
        println!("      {}{}", escape_control(&r.cause), escape_control(&request));
        let page = match i.lead_minutes {
            Some(0) => "the status page acknowledged it within a minute of detection".to_string(),
            Some(n) => format!("detected {n} min before the status page"),
            None => "not acknowledged by the status page".to_string(),
        };
        println!("      {page}");
    }
}

/// `7d`, `24h`, `30m`: the `--since` value as a person typed it.
fn short_duration(d: std::time::Duration) -> String {
    let m = d.as_secs() / 60;
    match m {
        m if m % (7 * 24 * 60) == 0 && m >= 14 * 24 * 60 => format!("{}w", m / (7 * 24 * 60)),
        m if m % (24 * 60) == 0 && m > 24 * 60 => format!("{}d", m / (24 * 60)),
        m if m % 60 == 0 => format!("{}h", m / 60),
        m => format!("{m}m"),
    }
}
