//! `switchboard-desktop`: the tray icon and the dashboard window, a thin shell
//! over the engine running in this process (DESIGN.md).
//!
//! Everything the CLI's `watch` starts (engine, server, history, metrics,
//! config watcher) comes from `switchboard::app::start`, plus desktop
//! notifications. The window is created on "Open dashboard" and loads the
//! in-process server's own URL (`http://127.0.0.1:<port>/`), so the dashboard
//! gets its API token and event stream exactly as in a browser; `frontendDist`
//! (../ui) is only there because Tauri wants one at build time.

mod autostart;
mod shell;
mod webkit;
mod xembed;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use switchboard::config::{self, Config, ConfigError};

/// Exit code for a config the user must fix (as the CLI).
const EXIT_CONFIG: u8 = 2;
const EXIT_FAILURE: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "switchboard-desktop",
    version = switchboard::VERSION,
    about = "Switchboard in the system tray: know your LLM provider is failing before its status page does."
)]
struct Args {
    /// Config file (default: $XDG_CONFIG_HOME/switchboard/config.toml).
    #[arg(long, env = "SWITCHBOARD_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// More logging (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("switchboard-desktop: {err:#}");
            if err.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        2.. => "switchboard=debug,switchboard_desktop=debug,info",
        _ => "switchboard=info,switchboard_desktop=info,warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only on a terminal: not in a log file or the journal.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

fn run(args: Args) -> anyhow::Result<()> {
    let path = config::resolve_path(args.config.as_deref())
        .context("cannot find a config directory (is HOME set?)")?;
    let config = Config::load(&path)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Tauri's own async work (plugins) runs on the engine's runtime.
    tauri::async_runtime::set(rt.handle().clone());
    shell::run(rt, config)
}
