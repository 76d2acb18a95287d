//! Profiles the gateway's hot paths: heap allocations, bytes allocated and CPU
//! time the gateway spends per request (and per upstream stream event), per
//! API and mode, against `bench_upstream`. A profiling aid for
//! `bench/gateway.sh`'s numbers, never a pass/fail test.
//!
//! The gateway (`switchboard::gateway::router`, the same code `switchboard
//! watch` serves) runs in this process on its own runtime, whose threads are
//! the only ones a counting global allocator counts; the client runs on the
//! main thread and is not counted. CPU time is the sum over all of this
//! process's threads (`/proc/self/task/*/schedstat`), through the gateway
//! minus the same requests sent to the upstream directly: what the gateway
//! adds.
//!
//! ```text
//! cargo run --release --example bench_upstream -- --listen 127.0.0.1:9001 &
//! cargo run --release --example gateway_allocs -- --upstream http://127.0.0.1:9001
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use switchboard::check::Checker;
use switchboard::config::Config;
use switchboard::credentials::Credentials;
use switchboard::engine::{Engine, SystemClock};
use switchboard::net::HostPolicy;
use switchboard::secrets::{MemoryStore, Secret, SecretStore};
use switchboard::traffic::Traffic;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the gateway runtime's threads only.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count(size: usize) {
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
}

// SAFETY: every call goes to the system allocator unchanged; counting only
// touches atomics and a const-initialised thread local (no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Parser)]
struct Args {
    /// The fake upstream (`bench_upstream`), e.g. http://127.0.0.1:9001.
    #[arg(long)]
    upstream: String,
    /// Sequential requests measured per API and mode (after a warm-up).
    #[arg(long, default_value_t = 2000)]
    requests: u32,
    /// Gateway runtime worker threads (`switchboard watch` uses one per core).
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// Process CPU time so far, all threads, from the scheduler's accounting.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn config(upstream: &str, preferred: &str) -> String {
    let fallback = if preferred == "openai" {
        r#"["openai", "anthropic"]"#
    } else {
        r#"["anthropic", "openai"]"#
    };
    format!(
        r#"
use_catalog = false
preferred = "{preferred}"
fallback = {fallback}
auto_switch = false

[check]
interval_secs = 3600

[notifications]
enabled = false

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "{upstream}"
status_format = "none"
model = "claude-sonnet-4-5"

[[providers]]
id = "openai"
kind = "openai"
base_url = "{upstream}/v1"
status_format = "none"
model = "gpt-4.1"
"#
    )
}

/// Starts a gateway on `rt` and returns its base URL.
fn start_gateway(rt: &tokio::runtime::Runtime, upstream: &str, preferred: &str) -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!(
        "switchboard-gateway-allocs-{}-{preferred}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("config.toml");
    std::fs::write(&path, config(upstream, preferred))?;
    let config = Config::load(&path)?;
    let _ = std::fs::remove_dir_all(&dir);
    rt.block_on(async {
        let store = Arc::new(MemoryStore::default());
        store.set("anthropic", &Secret::new("sk-ant-bench"))?;
        store.set("openai", &Secret::new("sk-bench"))?;
        let creds = Credentials::new(store, Arc::new(|_| None));
        let checker = Checker::new(creds.clone())?;
        let (engine, _task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
        let traffic = Arc::new(Traffic::default());
        let router = switchboard::gateway::router(engine, creds, traffic, HostPolicy::loopback())?;
        let listener = switchboard::net::bind("127.0.0.1:0".parse()?, false).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(switchboard::gateway::serve(
            listener,
            router,
            std::future::pending(),
        ));
        anyhow::Ok(format!("http://{addr}"))
    })
}

#[derive(Clone, Copy)]
enum Api {
    Messages,
    Chat,
    Responses,
}

impl Api {
    fn path(self) -> &'static str {
        match self {
            Api::Messages => "/v1/messages",
            Api::Chat => "/v1/chat/completions",
            Api::Responses => "/v1/responses",
        }
    }

    fn body(self, stream: bool) -> Vec<u8> {
        let v = match self {
            Api::Messages | Api::Chat => serde_json::json!({
                "model": "claude-sonnet-4-5", "max_tokens": 64, "stream": stream,
                "messages": [{"role": "user", "content": "Say hello."}],
            }),
            Api::Responses => serde_json::json!({
                "model": "claude-sonnet-4-5", "max_output_tokens": 64, "stream": stream,
                "input": "Say hello.",
            }),
        };
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

struct Sample {
    allocs: f64,
    bytes: f64,
    cpu_us: f64,
}

async fn send(client: &reqwest::Client, url: &str, body: &[u8]) -> anyhow::Result<usize> {
    let mut res = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-api-key", "bench-client-key")
        .header("anthropic-version", "2023-06-01")
        .header("authorization", "Bearer bench-client-key")
        .body(body.to_vec())
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "HTTP {}", res.status());
    let mut n = 0;
    while let Some(chunk) = res.chunk().await? {
        n += chunk.len();
    }
    Ok(n)
}

async fn sample(client: &reqwest::Client, url: &str, body: &[u8], n: u32) -> anyhow::Result<Sample> {
    for _ in 0..200 {
        send(client, url, body).await?;
    }
    let (a0, b0, c0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
        cpu_ns(),
    );
    for _ in 0..n {
        send(client, url, body).await?;
    }
    let n = f64::from(n);
    Ok(Sample {
        allocs: (ALLOCS.load(Ordering::Relaxed) - a0) as f64 / n,
        bytes: (BYTES.load(Ordering::Relaxed) - b0) as f64 / n,
        cpu_us: (cpu_ns() - c0) as f64 / 1000.0 / n,
    })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let gateway_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .on_thread_start(|| COUNTED.with(|c| c.set(true)))
        .enable_all()
        .build()?;
    let anthropic_first = start_gateway(&gateway_rt, &args.upstream, "anthropic")?;
    let openai_first = start_gateway(&gateway_rt, &args.upstream, "openai")?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    // (row, gateway, API, upstream events per stream)
    let rows = [
        ("messages → anthropic (pass)", &anthropic_first, Api::Messages, 10),
        ("chat → anthropic (translated)", &anthropic_first, Api::Chat, 10),
        (
            "responses → anthropic (translated)",
            &anthropic_first,
            Api::Responses,
            10,
        ),
        (
            "responses → openai /responses (pass)",
            &openai_first,
            Api::Responses,
            12,
        ),
    ];
    println!(
        "Gateway cost per request ({} sequential requests each; CPU: through the gateway minus direct)",
        args.requests
    );
    println!();
    println!("| path | mode | allocations | allocated KiB | allocations per upstream event | CPU µs added |");
    println!("|---|---|---:|---:|---:|---:|");
    client_rt.block_on(async {
        for (name, gw, api, events) in rows {
            let mut whole_allocs = 0.0;
            for stream in [false, true] {
                let body = api.body(stream);
                let direct = sample(
                    &client,
                    &format!("{}{}", args.upstream, api.path()),
                    &body,
                    args.requests,
                )
                .await?;
                let through = sample(&client, &format!("{gw}{}", api.path()), &body, args.requests).await?;
                // What a stream costs beyond the same request answered whole,
                // spread over its upstream events: the per-event cost.
                let per_event = if stream {
                    format!("{:.1}", (through.allocs - whole_allocs) / f64::from(events))
                } else {
                    whole_allocs = through.allocs;
                    "—".into()
                };
                println!(
                    "| {name} | {} | {:.0} | {:.1} | {per_event} | {:.0} |",
                    if stream { "stream" } else { "non-stream" },
                    through.allocs,
                    through.bytes / 1024.0,
                    through.cpu_us - direct.cpu_us,
                );
            }
        }
        anyhow::Ok(())
    })?;
    Ok(())
}
