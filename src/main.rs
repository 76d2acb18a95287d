//! The `switchboard` command line: the edge where engine errors become messages
//! and exit codes (monitoring-plugin convention for `status`).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use switchboard::check::{self, Checker};
use switchboard::config::{self, Config, ConfigError};
use switchboard::config_edit;
use switchboard::engine::{Engine, Event, SystemClock};
use switchboard::model::{CredentialSource, ProviderReport, State, StatusReport};
use switchboard::secrets::{Credentials, Secret, SERVICE};

/// Exit code for a config the user must fix (and for usage errors, like clap).
const EXIT_CONFIG: u8 = 2;
/// Exit code for other failures (monitoring plugins read 3 as UNKNOWN).
const EXIT_FAILURE: u8 = 3;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
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
    },
    /// Run the engine headless until interrupted, logging state changes.
    Watch,
    /// Manage API keys in the OS keyring (service "switchboard", account = provider id).
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Make ID the preferred provider (writes the config, keeping its comments).
    Prefer { id: String },
    /// List the configured providers.
    Providers,
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

fn init_logging(cli: &Cli) {
    let default = match (&cli.command, cli.verbose) {
        (_, 2..) => "switchboard=debug,info",
        (Command::Watch, _) | (_, 1) => "switchboard=info,warn",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn config_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    match &cli.config {
        Some(p) => Ok(p.clone()),
        None => config::default_path().context("cannot find a config directory (is HOME set?)"),
    }
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
        Command::Status { json, providers } => status(&cli, *json, providers),
        Command::Watch => watch(&cli),
        Command::Key { action } => key(&cli, action),
        Command::Prefer { id } => prefer(&cli, id),
        Command::Providers => list_providers(&cli),
    }
}

fn status(cli: &Cli, json: bool, only: &[String]) -> anyhow::Result<u8> {
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
        let round = checker
            .run(&selected, &config.check, true, chrono::Utc::now())
            .await;
        anyhow::Ok(check::one_shot_report(&config, &selected, &round))
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(report.overall.exit_code())
}

fn print_table(report: &StatusReport) {
    let name_w = report
        .providers
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
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
                .map(|r| format!("{} ms", r.latency_ms))
                .unwrap_or_else(|| "-".into()),
            describe(p) + marker
        );
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

fn watch(cli: &Cli) -> anyhow::Result<u8> {
    let config = load_config(cli)?;
    let rt = runtime()?;
    rt.block_on(async {
        let checker = Checker::new(Credentials::system())?;
        let n = config.enabled_providers().count();
        tracing::info!(
            providers = n,
            config = %config.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            "watching; Ctrl-C to stop"
        );
        let (handle, task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
        let mut events = handle.subscribe();
        let log = tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(Event::IncidentOpened { id, incident }) => {
                        println!(
                            "{} {id}: began: {}",
                            incident.detected_at.to_rfc3339(),
                            incident.cause
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
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        shutdown_signal().await;
        tracing::info!("stopping");
        handle.shutdown().await;
        let _ = task.await;
        log.abort();
        anyhow::Ok(())
    })?;
    Ok(0)
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
            let w = config
                .providers
                .iter()
                .map(|p| p.id.len())
                .max()
                .unwrap_or(8)
                .max(8);
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
    let w = config
        .providers
        .iter()
        .map(|p| p.id.len())
        .max()
        .unwrap_or(8)
        .max(8);
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
