//! Load test of `GET /api/status`: N requests, C in flight at all times, then
//! p50 / p90 / p99 / max latency and throughput.
//!
//! By default it starts what `switchboard watch` runs, in this process: the
//! engine with the real checker against fake providers and a Claude-like
//! status page on 127.0.0.1 (7 providers, a report of a few kilobytes), and
//! the HTTP server on its own runtime. `--url` targets a running server instead.
//!
//! ```text
//! cargo run --release --example api_load -- --concurrency 200 --requests 20000
//! cargo run --release --example api_load -- --url http://127.0.0.1:7461
//! ```
//!
//! Client and server share the machine's cores, as they would on a desktop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use switchboard::check::Checker;
use switchboard::config::Config;
use switchboard::credentials::Credentials;
use switchboard::engine::{Engine, SystemClock};
use switchboard::metrics::{spawn_metrics, Metrics};
use switchboard::secrets::{MemoryStore, Secret, SecretStore};
use switchboard::server::{self, AppState, Token};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Parser)]
struct Args {
    /// Requests in flight at any moment.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Measured requests (after the warm-up).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Unmeasured requests first (connections, caches).
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    /// Base URL of a running server; default: start one in this process.
    #[arg(long)]
    url: Option<String>,
}

/// Worker threads per runtime: the server's and the client's, like two processes.
const THREADS: usize = 2;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (base, _server) = match &args.url {
        Some(url) => (url.trim_end_matches('/').to_string(), None),
        None => {
            let (addr, rt) = start_server()?;
            (format!("http://{addr}"), Some(rt))
        }
    };
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()?;
    client_rt.block_on(load(&args, &base))
}

async fn load(args: &Args, base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let url = format!("{base}/api/status");
    let size = client
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?
        .len();
    run(&client, &url, args.concurrency, args.warmup).await?;
    let started = Instant::now();
    let mut latencies = run(&client, &url, args.concurrency, args.requests).await?;
    let wall = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("GET {url}");
    println!("report size        {size} bytes");
    println!("concurrency        {}", args.concurrency);
    println!("requests           {}", latencies.len());
    println!(
        "throughput         {:.0} req/s",
        latencies.len() as f64 / wall.as_secs_f64()
    );
    println!("p50                {:.2} ms", ms(pct(0.50)));
    println!("p90                {:.2} ms", ms(pct(0.90)));
    println!("p99                {:.2} ms", ms(pct(0.99)));
    println!("max                {:.2} ms", ms(pct(1.0)));
    Ok(())
}

/// `total` requests from `concurrency` workers, each waiting for its answer
/// before sending the next; returns every latency.
async fn run(
    client: &reqwest::Client,
    url: &str,
    concurrency: usize,
    total: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let n = total / concurrency + usize::from(w < total % concurrency);
        let client = client.clone();
        let url = url.to_string();
        workers.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                let res = client.get(&url).send().await?.error_for_status()?;
                res.bytes().await?;
                out.push(t.elapsed());
            }
            anyhow::Ok(out)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for w in workers {
        all.extend(w.await??);
    }
    Ok(all)
}

/// Fakes, engine and server on a runtime of their own; returns the address.
fn start_server() -> anyhow::Result<(std::net::SocketAddr, tokio::runtime::Runtime)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()?;
    let addr = rt.block_on(async {
        let fake = MockServer::start().await;
        let page = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/status/claude_api_degraded.json"
        ))?;
        Mock::given(method("GET"))
            .and(path("/claude/api/v2/summary.json"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(page, "application/json"))
            .mount(&fake)
            .await;
        Mock::given(method("GET"))
            .and(path("/ollama/api/tags"))
            .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"models":[]}"#))
            .mount(&fake)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("/models$"))
            .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"data":[],"models":[]}"#))
            .mount(&fake)
            .await;
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config(&fake.uri()))?;
        let config = Config::load(&config_path)?;

        let keys = Arc::new(MemoryStore::default());
        for id in ["anthropic", "openai", "gemini", "openrouter"] {
            keys.set(id, &Secret::new(format!("bench-key-{id}")))?;
        }
        let credentials = Credentials::new(keys, Arc::new(|_| None));
        let checker = Checker::new(credentials.clone())?;
        let (engine, _task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
        engine.check_now().await?;
        let metrics = Arc::new(Metrics::new());
        spawn_metrics(&engine, metrics.clone());
        let token = Arc::new(Token::load_or_create(dir.path())?);
        let state = AppState::new(engine, credentials, token, metrics);
        let listener = server::bind("127.0.0.1:0".parse()?, false).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            // Keep the fakes and the temp dir alive as long as the server.
            let _keep = (fake, dir);
            if let Err(e) = server::serve(listener, state, std::future::pending()).await {
                eprintln!("server: {e}");
            }
        });
        anyhow::Ok(addr)
    })?;
    Ok((addr, rt))
}

fn config(fake: &str) -> String {
    format!(
        r#"use_catalog = false
preferred = "anthropic"

[check]
interval_secs = 3600

[[providers]]
id = "anthropic"
base_url = "{fake}/anthropic"
status_page = "{fake}/claude/api/v2/summary.json"
status_format = "statuspage"

[[providers]]
id = "claude-ai"
status_page = "{fake}/claude/api/v2/summary.json"
status_format = "statuspage"

[[providers]]
id = "claude-code"
status_page = "{fake}/claude/api/v2/summary.json"
status_format = "statuspage"

[[providers]]
id = "openai"
base_url = "{fake}/openai/v1"
status_format = "none"

[[providers]]
id = "gemini"
base_url = "{fake}/gemini"
status_format = "none"

[[providers]]
id = "openrouter"
base_url = "{fake}/openrouter/api/v1"
status_format = "none"

[[providers]]
id = "ollama"
base_url = "{fake}/ollama"
"#
    )
}
