//! The load generator of `bench/gateway.sh`: the same LLM request sent to
//! several targets (the fake upstream directly, Switchboard's gateway,
//! LiteLLM's proxy), streaming and not, then one table.
//!
//! Per target and mode:
//! 1. warm-up: a second of closed-loop requests (connections, caches);
//! 2. closed loop: `--concurrency` connections, each sending its next request
//!    as soon as the last one finished, for `--closed-secs`: the maximum
//!    requests/s;
//! 3. open loop, per `--rate`: that many requests/s for `--duration` seconds,
//!    each sent at its scheduled time whether or not earlier ones have
//!    finished (no coordinated omission); latency is from the send to the last
//!    byte of the body (the whole JSON, or the stream's final event). A rate
//!    above the target's closed-loop maximum is skipped: its latency would be
//!    the queue the target builds, not what it adds per request.
//!
//! A request counts as an error unless it answers 200 and, when streamed,
//! ends with the protocol's last event (`message_stop` / `data: [DONE]`).
//!
//! ```text
//! bench_load --target direct=http://127.0.0.1:9001 --target switchboard=http://127.0.0.1:7462 \
//!            --rate 500 --duration 10
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Protocol {
    /// `POST {base}/v1/messages`, x-api-key + anthropic-version.
    Anthropic,
    /// `POST {base}/v1/chat/completions`, Bearer.
    Openai,
}

#[derive(Parser)]
struct Args {
    /// NAME=BASE_URL (no /v1), in table order; the first is the baseline of "added".
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    #[arg(long, value_enum, default_value = "anthropic")]
    protocol: Protocol,
    /// Model name sent in the request.
    #[arg(long, default_value = "claude-sonnet-4-5")]
    model: String,
    /// Open loop: requests per second; several rates give several rows. A
    /// target whose closed-loop maximum is below a rate is not run at it (its
    /// latency would be the queue it builds, not its overhead).
    #[arg(long = "rate", value_delimiter = ',', default_value = "500")]
    rates: Vec<f64>,
    /// Open loop: seconds per rate.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Closed loop: connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Closed loop: seconds.
    #[arg(long, default_value_t = 5.0)]
    closed_secs: f64,
    /// Per-request timeout, seconds (counted as an error).
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Modes to run: both by default.
    #[arg(long, value_delimiter = ',', default_value = "non-stream,stream")]
    modes: Vec<String>,
    /// Client worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

struct Target {
    name: String,
    url: String,
}

#[derive(Clone)]
struct Req {
    client: reqwest::Client,
    url: String,
    protocol: Protocol,
    body: bytes::Bytes,
    stream: bool,
}

/// One target in one mode: its ceiling, and its latency at each rate it can carry.
struct Run {
    target: String,
    mode: &'static str,
    max_rps: f64,
    closed_errors: u64,
    at: Vec<AtRate>,
}

struct AtRate {
    rate: f64,
    /// None: not run, the target cannot carry this rate.
    lat: Option<Latency>,
}

struct Latency {
    p50: f64,
    p99: f64,
    served: f64,
    errors: usize,
    first_error: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let path = match args.protocol {
        Protocol::Anthropic => "/v1/messages",
        Protocol::Openai => "/v1/chat/completions",
    };
    let targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| {
            let (name, url) = t
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--target NAME=URL, got {t}"))?;
            Ok(Target {
                name: name.to_string(),
                url: format!("{}{path}", url.trim_end_matches('/')),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let mut runs = Vec::new();
    for mode in &args.modes {
        let stream = match mode.as_str() {
            "stream" => true,
            "non-stream" => false,
            other => anyhow::bail!("unknown mode {other} (non-stream, stream)"),
        };
        for t in &targets {
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs_f64(args.timeout))
                .pool_max_idle_per_host(1024)
                .build()?;
            let req = Req {
                client,
                url: t.url.clone(),
                protocol: args.protocol,
                body: body(args.protocol, &args.model, stream),
                stream,
            };
            // One request first: a broken target fails loudly, not as 100% errors.
            if let Err(e) = one(&req).await {
                anyhow::bail!("{} ({}): first request failed: {e}", t.name, t.url);
            }
            eprintln!("bench: {} {mode}: warm-up, then closed loop", t.name);
            closed(&req, args.concurrency.min(8), Duration::from_secs(1)).await;
            let (done, closed_errors) =
                closed(&req, args.concurrency, Duration::from_secs_f64(args.closed_secs)).await;
            let max_rps = done as f64 / args.closed_secs;
            let mut at = Vec::new();
            for &rate in &args.rates {
                if max_rps < rate * 1.05 {
                    eprintln!(
                        "bench: {} {mode}: skipping {rate} req/s (max {max_rps:.0} req/s)",
                        t.name
                    );
                    at.push(AtRate { rate, lat: None });
                    continue;
                }
                // Let the target drain before the next measurement.
                tokio::time::sleep(Duration::from_millis(500)).await;
                eprintln!("bench: {} {mode}: open loop at {rate} req/s", t.name);
                let (mut lat, errors, first_error, elapsed) = open(&req, rate, args.duration).await;
                lat.sort_unstable();
                let pct = |p: f64| {
                    if lat.is_empty() {
                        f64::NAN
                    } else {
                        let i = ((lat.len() as f64 * p).ceil() as usize).saturating_sub(1);
                        lat[i].as_secs_f64() * 1000.0
                    }
                };
                at.push(AtRate {
                    rate,
                    lat: Some(Latency {
                        p50: pct(0.50),
                        p99: pct(0.99),
                        served: lat.len() as f64 / elapsed.as_secs_f64(),
                        errors,
                        first_error,
                    }),
                });
            }
            runs.push(Run {
                target: t.name.clone(),
                mode: if stream { "stream" } else { "non-stream" },
                max_rps,
                closed_errors,
                at,
            });
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    print_table(&args, &runs);
    Ok(())
}

fn body(protocol: Protocol, model: &str, stream: bool) -> bytes::Bytes {
    let v = match protocol {
        Protocol::Anthropic => serde_json::json!({
            "model": model,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello."}],
            "stream": stream,
        }),
        Protocol::Openai => serde_json::json!({
            "model": model,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello."}],
            "stream": stream,
        }),
    };
    serde_json::to_vec(&v).expect("json").into()
}

/// One request to its last byte; Err says why it does not count.
async fn one(req: &Req) -> Result<(), String> {
    let mut b = req
        .client
        .post(&req.url)
        .header("content-type", "application/json")
        .body(req.body.clone());
    b = match req.protocol {
        Protocol::Anthropic => b
            .header("x-api-key", "bench-client-key")
            .header("anthropic-version", "2023-06-01"),
        Protocol::Openai => b.header("authorization", "Bearer bench-client-key"),
    };
    let mut res = b.send().await.map_err(|e| format!("send: {e}"))?;
    let status = res.status();
    let mut tail: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = res.chunk().await.map_err(|e| format!("body: {e}"))? {
        total += chunk.len();
        tail.extend_from_slice(&chunk);
        if tail.len() > 512 {
            tail.drain(..tail.len() - 256);
        }
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&tail)));
    }
    if total == 0 {
        return Err("empty body".into());
    }
    if req.stream {
        let end = match req.protocol {
            Protocol::Anthropic => "message_stop",
            Protocol::Openai => "[DONE]",
        };
        if !String::from_utf8_lossy(&tail).contains(end) {
            return Err(format!("stream did not end with {end}"));
        }
    }
    Ok(())
}

/// Open loop: request i is sent at start + i/rate. Returns the latencies of
/// the good ones (send to last byte), the error count, the first error, and
/// the time from the start to the last answer.
async fn open(req: &Req, rate: f64, duration: f64) -> (Vec<Duration>, usize, Option<String>, Duration) {
    let n = (rate * duration).round().max(1.0) as usize;
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = one(&req).await;
            (r, t.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(n);
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok((Ok(()), d)) => lat.push(d),
            Ok((Err(e), _)) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("task: {e}"));
            }
        }
    }
    (lat, errors, first_error, start.elapsed())
}

/// Closed loop: `concurrency` workers for `secs`; returns (good, errors).
async fn closed(req: &Req, concurrency: usize, secs: Duration) -> (u64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let good = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (req, stop, good, bad) = (req.clone(), stop.clone(), good.clone(), bad.clone());
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ok = one(&req).await.is_ok();
                // Only answers that finished inside the window count.
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if ok { &good } else { &bad }.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t0 = Instant::now();
    tokio::time::sleep(secs).await;
    stop.store(true, Ordering::Relaxed);
    let counted = (good.load(Ordering::Relaxed), bad.load(Ordering::Relaxed));
    for w in workers {
        let _ = w.await;
    }
    let _ = t0;
    counted
}

fn print_table(args: &Args, runs: &[Run]) {
    let proto = match args.protocol {
        Protocol::Anthropic => "Anthropic POST /v1/messages",
        Protocol::Openai => "OpenAI POST /v1/chat/completions",
    };
    println!();
    println!(
        "{proto}. Latency: open loop, {} s per rate, from the send to the last byte. \
         Max req/s: closed loop, {} connections, {} s.",
        args.duration, args.concurrency, args.closed_secs
    );
    println!();
    println!("| target | mode | req/s offered | p50 ms | p99 ms | added p50 ms | added p99 ms | max req/s | errors |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let baseline = runs.first().map(|r| r.target.as_str());
    let base_of = |mode: &str, rate: f64| {
        runs.iter()
            .find(|b| Some(b.target.as_str()) == baseline && b.mode == mode)
            .and_then(|b| b.at.iter().find(|a| a.rate == rate))
            .and_then(|a| a.lat.as_ref())
    };
    let mut notes = Vec::new();
    for mode in ["non-stream", "stream"] {
        for &rate in &args.rates {
            for r in runs.iter().filter(|r| r.mode == mode) {
                let Some(a) = r.at.iter().find(|a| a.rate == rate) else {
                    continue;
                };
                let max = format!("{:.0}", r.max_rps);
                match &a.lat {
                    None => println!(
                        "| {} | {mode} | {rate} | — | — | — | — | {max} | {} |",
                        r.target, r.closed_errors
                    ),
                    Some(l) => {
                        let (a50, a99) = match base_of(mode, rate) {
                            Some(b) if Some(r.target.as_str()) != baseline => {
                                (format!("{:.2}", l.p50 - b.p50), format!("{:.2}", l.p99 - b.p99))
                            }
                            _ => ("—".to_string(), "—".to_string()),
                        };
                        println!(
                            "| {} | {mode} | {rate} | {:.2} | {:.2} | {a50} | {a99} | {max} | {} |",
                            r.target,
                            l.p50,
                            l.p99,
                            l.errors + r.closed_errors as usize
                        );
                        if l.served < rate * 0.95 {
                            notes.push(format!(
                                "{} {mode} at {rate} req/s: answered only {:.0} req/s",
                                r.target, l.served
                            ));
                        }
                        if let Some(e) = &l.first_error {
                            notes.push(format!("{} {mode} at {rate} req/s, first error: {e}", r.target));
                        }
                    }
                }
            }
        }
    }
    // Overhead of each further target relative to the second one (Switchboard).
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r.target.as_str())
        .fold(Vec::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
    if names.len() > 2 {
        println!();
        for mode in ["non-stream", "stream"] {
            for &rate in &args.rates {
                let lat = |name: &str| {
                    runs.iter()
                        .find(|r| r.target == name && r.mode == mode)
                        .and_then(|r| r.at.iter().find(|a| a.rate == rate))
                        .and_then(|a| a.lat.as_ref())
                };
                let (Some(b), Some(s)) = (lat(names[0]), lat(names[1])) else {
                    continue;
                };
                for other in &names[2..] {
                    if let Some(o) = lat(other) {
                        println!(
                            "{mode} at {rate} req/s: {other} adds {:.2} / {:.2} ms (p50 / p99), {} adds {:.2} / {:.2} ms: \
                             {:.0}x / {:.0}x",
                            o.p50 - b.p50,
                            o.p99 - b.p99,
                            names[1],
                            s.p50 - b.p50,
                            s.p99 - b.p99,
                            (o.p50 - b.p50) / (s.p50 - b.p50).max(0.01),
                            (o.p99 - b.p99) / (s.p99 - b.p99).max(0.01),
                        );
                    }
                }
            }
        }
    }
    for n in notes {
        println!("note: {n}");
    }
}
