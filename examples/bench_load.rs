//! The load generator of `bench/gateway.sh`: the same LLM request sent to
//! several targets (the fake upstream directly, Switchboard's gateway, its
//! peers), per API (Anthropic Messages, OpenAI Chat Completions, OpenAI
//! Responses), streaming and not, then one table.
//!
//! Per API, mode and target:
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
//! ends with the protocol's last event (`message_stop` / `data: [DONE]` /
//! `response.completed`). A target whose first request fails is reported as
//! such in the table (with the error) instead of being measured.
//!
//! ```text
//! bench_load --target anthropic:direct=http://127.0.0.1:9001 \
//!            --target anthropic:switchboard=http://127.0.0.1:7462 \
//!            --target 'openai:tensorzero=http://127.0.0.1:3000/openai|model=tensorzero::model_name::m' \
//!            --target 'responses:tensorzero=n/a:no Responses API endpoint' \
//!            --rate 500 --duration 10
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Api {
    /// `POST {base}/v1/messages`, x-api-key + anthropic-version.
    Anthropic,
    /// `POST {base}/v1/chat/completions`, Bearer.
    Openai,
    /// `POST {base}/v1/responses`, Bearer.
    Responses,
}

impl Api {
    fn parse(s: &str) -> anyhow::Result<Api> {
        <Api as ValueEnum>::from_str(s, true).map_err(|e| anyhow::anyhow!("unknown API {s}: {e}"))
    }

    fn path(self) -> &'static str {
        match self {
            Api::Anthropic => "/v1/messages",
            Api::Openai => "/v1/chat/completions",
            Api::Responses => "/v1/responses",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Api::Anthropic => "Anthropic `POST /v1/messages`",
            Api::Openai => "OpenAI `POST /v1/chat/completions`",
            Api::Responses => "OpenAI `POST /v1/responses`",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Api::Anthropic => "messages",
            Api::Openai => "chat",
            Api::Responses => "responses",
        }
    }

    /// The last event of a complete stream.
    fn end_marker(self) -> &'static str {
        match self {
            Api::Anthropic => "message_stop",
            Api::Openai => "[DONE]",
            Api::Responses => "response.completed",
        }
    }
}

#[derive(Parser)]
struct Args {
    /// API:NAME=BASE_URL[|model=MODEL] (base without /v1), or API:NAME=n/a:WHY for
    /// a target that cannot serve that API; in table order. Per API, the first
    /// target is the baseline of "added".
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// Model name sent in the request, unless the target names its own.
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
    /// Open loop: rounds per rate. In each round every target runs once, in
    /// table order, so a slow spell of the machine falls on neighbours alike;
    /// the table shows the median round, and "added" is the median of each
    /// round's own difference (with its range when there are several).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    repeat: u64,
    /// Also write every open-loop request (send time from the start, latency,
    /// in ms) to DIR/<api>-<target>-<mode>-<rate>.tsv, to see when the slow
    /// ones happened (bursts, a period) rather than only how slow p99 is.
    #[arg(long, value_name = "DIR")]
    samples: Option<std::path::PathBuf>,
}

struct Target {
    api: Api,
    name: String,
    /// Err: why this target is not run for this API.
    url: Result<String, String>,
    model: Option<String>,
}

impl Target {
    fn parse(spec: &str) -> anyhow::Result<Target> {
        let (head, rest) = spec
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--target API:NAME=URL, got {spec}"))?;
        let (api, name) = head
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("--target API:NAME=URL, got {spec}"))?;
        let api = Api::parse(api)?;
        if let Some(why) = rest.strip_prefix("n/a:") {
            return Ok(Target {
                api,
                name: name.to_string(),
                url: Err(why.to_string()),
                model: None,
            });
        }
        let (url, model) = match rest.split_once("|model=") {
            Some((u, m)) => (u, Some(m.to_string())),
            None => (rest, None),
        };
        Ok(Target {
            api,
            name: name.to_string(),
            url: Ok(format!("{}{}", url.trim_end_matches('/'), api.path())),
            model,
        })
    }
}

#[derive(Clone)]
struct Req {
    client: reqwest::Client,
    url: String,
    api: Api,
    body: bytes::Bytes,
    stream: bool,
}

/// One target in one mode: its ceiling, and its latency at each rate it can carry.
struct Run {
    api: Api,
    target: String,
    mode: &'static str,
    outcome: Outcome,
}

enum Outcome {
    Measured {
        max_rps: f64,
        closed_errors: u64,
        at: Vec<AtRate>,
    },
    /// Not run: the target does not serve this API (why), or its first request failed.
    NotRun(String),
}

struct AtRate {
    rate: f64,
    /// None: not run, the target cannot carry this rate.
    lat: Option<Latency>,
}

/// A target's open-loop rounds at one rate.
#[derive(Default)]
struct Latency {
    /// (p50, p99) in ms, one per round, in round order.
    rounds: Vec<(f64, f64)>,
    /// The lowest answer rate of any round.
    served: f64,
    errors: usize,
    first_error: Option<String>,
}

impl Latency {
    fn p50(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.0))
    }

    fn p99(&self) -> f64 {
        median(self.rounds.iter().map(|r| r.1))
    }
}

/// The median (the mean of the middle two for an even count); NaN when empty.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
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
    let targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<anyhow::Result<_>>()?;
    let mut apis: Vec<Api> = Vec::new();
    for t in &targets {
        if !apis.contains(&t.api) {
            apis.push(t.api);
        }
    }
    let mut runs = Vec::new();
    for &api in &apis {
        for mode in &args.modes {
            let stream = match mode.as_str() {
                "stream" => true,
                "non-stream" => false,
                other => anyhow::bail!("unknown mode {other} (non-stream, stream)"),
            };
            let mode = mode_name(stream);
            let first = runs.len();
            let mut reqs = Vec::new();
            for t in targets.iter().filter(|t| t.api == api) {
                let (outcome, req) = match &t.url {
                    Err(why) => (Outcome::NotRun(format!("n/a: {why}")), None),
                    Ok(url) => prepare(&args, t, url, stream).await?,
                };
                runs.push(Run {
                    api,
                    target: t.name.clone(),
                    mode,
                    outcome,
                });
                reqs.push(req);
            }
            for round in 0..args.repeat {
                for (run, req) in runs[first..].iter_mut().zip(&reqs) {
                    if let (Outcome::Measured { at, .. }, Some(req)) = (&mut run.outcome, req) {
                        open_round(&args, &run.target, req, at, round).await?;
                    }
                }
            }
        }
    }
    print_table(&args, &apis, &runs);
    Ok(())
}

/// A target's first request, warm-up and closed loop: its ceiling, and which
/// rates it can carry (`Outcome::Measured` with no rounds yet, and the request
/// to send), or why it is not measured.
async fn prepare(args: &Args, t: &Target, url: &str, stream: bool) -> anyhow::Result<(Outcome, Option<Req>)> {
    let label = format!("{} {} {}", t.api.short(), t.name, mode_name(stream));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs_f64(args.timeout))
        .pool_max_idle_per_host(1024)
        .build()?;
    let req = Req {
        client,
        url: url.to_string(),
        api: t.api,
        body: body(t.api, t.model.as_deref().unwrap_or(&args.model), stream),
        stream,
    };
    // One request first: a broken target is reported, not measured as 100% errors.
    if let Err(e) = one(&req).await {
        eprintln!("bench: {label}: first request failed: {e}");
        return Ok((Outcome::NotRun(format!("failed: {}", e.replace('|', "/"))), None));
    }
    eprintln!("bench: {label}: warm-up, then closed loop");
    closed(&req, args.concurrency.min(8), Duration::from_secs(1)).await;
    let (done, closed_errors) =
        closed(&req, args.concurrency, Duration::from_secs_f64(args.closed_secs)).await;
    let max_rps = done as f64 / args.closed_secs;
    let at = args
        .rates
        .iter()
        .map(|&rate| {
            // A rate above the ceiling is not run: its latency would be the
            // queue the target builds, not what it adds per request.
            let carried = max_rps >= rate * 1.05;
            if !carried {
                eprintln!("bench: {label}: skipping {rate} req/s (max {max_rps:.0} req/s)");
            }
            AtRate {
                rate,
                lat: carried.then(Latency::default),
            }
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outcome = Outcome::Measured {
        max_rps,
        closed_errors,
        at,
    };
    Ok((outcome, Some(req)))
}

/// One open-loop round of one target at each rate it carries.
async fn open_round(args: &Args, name: &str, req: &Req, at: &mut [AtRate], round: u64) -> anyhow::Result<()> {
    let mode = mode_name(req.stream);
    for a in at.iter_mut() {
        let Some(lat) = a.lat.as_mut() else { continue };
        let rate = a.rate;
        // Let the previous target drain before this measurement.
        tokio::time::sleep(Duration::from_millis(500)).await;
        eprintln!(
            "bench: {} {name} {mode}: open loop at {rate} req/s (round {} of {})",
            req.api.short(),
            round + 1,
            args.repeat
        );
        let (timed, errors, first_error, elapsed) = open(req, rate, args.duration).await;
        if let Some(dir) = &args.samples {
            let suffix = if args.repeat > 1 {
                format!("-round{}", round + 1)
            } else {
                String::new()
            };
            let file = dir.join(format!("{}-{name}-{mode}-{rate}{suffix}.tsv", req.api.short()));
            let rows: String = timed
                .iter()
                .map(|(sent, d)| {
                    format!(
                        "{:.3}\t{:.3}\n",
                        sent.as_secs_f64() * 1000.0,
                        d.as_secs_f64() * 1000.0
                    )
                })
                .collect();
            std::fs::write(&file, rows)?;
        }
        let mut ms: Vec<f64> = timed.iter().map(|(_, d)| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            if ms.is_empty() {
                f64::NAN
            } else {
                ms[((ms.len() as f64 * p).ceil() as usize).saturating_sub(1)]
            }
        };
        let served = ms.len() as f64 / elapsed.as_secs_f64();
        lat.served = if lat.rounds.is_empty() {
            served
        } else {
            lat.served.min(served)
        };
        lat.rounds.push((pct(0.50), pct(0.99)));
        lat.errors += errors;
        if lat.first_error.is_none() {
            lat.first_error = first_error;
        }
    }
    Ok(())
}

/// The table's name of a mode.
fn mode_name(stream: bool) -> &'static str {
    if stream {
        "stream"
    } else {
        "non-stream"
    }
}

fn body(api: Api, model: &str, stream: bool) -> bytes::Bytes {
    let v = match api {
        Api::Anthropic | Api::Openai => serde_json::json!({
            "model": model,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello."}],
            "stream": stream,
        }),
        Api::Responses => serde_json::json!({
            "model": model,
            "max_output_tokens": 64,
            "input": "Say hello.",
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
    b = match req.api {
        Api::Anthropic => b
            .header("x-api-key", "bench-client-key")
            .header("anthropic-version", "2023-06-01"),
        Api::Openai | Api::Responses => b.header("authorization", "Bearer bench-client-key"),
    };
    let mut res = b.send().await.map_err(|e| format!("send: {e}"))?;
    let status = res.status();
    let mut tail: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = res.chunk().await.map_err(|e| format!("body: {e}"))? {
        total += chunk.len();
        tail.extend_from_slice(&chunk);
        // Enough for the last event: Responses' `response.completed` repeats
        // the whole answer after its name.
        if tail.len() > 8192 {
            tail.drain(..tail.len() - 4096);
        }
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&tail)));
    }
    if total == 0 {
        return Err("empty body".into());
    }
    if req.stream {
        let end = req.api.end_marker();
        if !String::from_utf8_lossy(&tail).contains(end) {
            return Err(format!("stream did not end with {end}"));
        }
    }
    Ok(())
}

/// Open loop: request i is sent at start + i/rate. Returns the good ones'
/// send times (from the start) and latencies (send to last byte), the error
/// count, the first error, and the time from the start to the last answer.
async fn open(
    req: &Req,
    rate: f64,
    duration: f64,
) -> (Vec<(Duration, Duration)>, usize, Option<String>, Duration) {
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
            (r, t.duration_since(start.into_std()), t.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(n);
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok((Ok(()), sent, d)) => lat.push((sent, d)),
            Ok((Err(e), _, _)) => {
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

fn print_table(args: &Args, apis: &[Api], runs: &[Run]) {
    println!();
    let rounds = args.repeat;
    println!(
        "Latency: open loop, {} s per rate, from the send to the last byte; added: minus the first \
         target of the same API, mode and rate. Max req/s: closed loop, {} connections, {} s.",
        args.duration, args.concurrency, args.closed_secs
    );
    if rounds > 1 {
        println!(
            "{rounds} rounds, the targets one after the other in each: latencies are the median round's; \
             added is the median of each round's own difference, its range in brackets."
        );
    }
    println!();
    println!("| API | target | mode | req/s offered | p50 ms | p99 ms | added p50 ms | added p99 ms | max req/s | errors |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let lat_of = |api: Api, name: &str, mode: &str, rate: f64| {
        runs.iter()
            .find(|r| r.api == api && r.target == name && r.mode == mode)
            .and_then(|r| match &r.outcome {
                Outcome::Measured { at, .. } => at.iter().find(|a| a.rate == rate),
                Outcome::NotRun(_) => None,
            })
            .and_then(|a| a.lat.as_ref())
    };
    let mut notes = Vec::new();
    for &api in apis {
        let baseline = runs.iter().find(|r| r.api == api).map(|r| r.target.as_str());
        for mode in ["non-stream", "stream"] {
            for &rate in &args.rates {
                for r in runs.iter().filter(|r| r.api == api && r.mode == mode) {
                    let api_name = api.short();
                    let (max_rps, closed_errors, at) = match &r.outcome {
                        Outcome::NotRun(why) => {
                            println!(
                                "| {api_name} | {} | {mode} | {rate} | — | — | — | — | — | {why} |",
                                r.target
                            );
                            continue;
                        }
                        Outcome::Measured {
                            max_rps,
                            closed_errors,
                            at,
                        } => (max_rps, closed_errors, at),
                    };
                    let Some(a) = at.iter().find(|a| a.rate == rate) else {
                        continue;
                    };
                    let max = format!("{max_rps:.0}");
                    match &a.lat {
                        None => println!(
                            "| {api_name} | {} | {mode} | {rate} | — | — | — | — | {max} | {closed_errors} (rate above its max) |",
                            r.target
                        ),
                        Some(l) => {
                            let base = baseline.and_then(|b| lat_of(api, b, mode, rate));
                            let (a50, a99) = match base {
                                Some(b) if Some(r.target.as_str()) != baseline => added(l, b),
                                _ => ("—".to_string(), "—".to_string()),
                            };
                            println!(
                                "| {api_name} | {} | {mode} | {rate} | {:.2} | {:.2} | {a50} | {a99} | {max} | {} |",
                                r.target,
                                l.p50(),
                                l.p99(),
                                l.errors + *closed_errors as usize
                            );
                            if l.served < rate * 0.95 {
                                notes.push(format!(
                                    "{api_name} {} {mode} at {rate} req/s: answered only {:.0} req/s",
                                    r.target, l.served
                                ));
                            }
                            if let Some(e) = &l.first_error {
                                notes.push(format!(
                                    "{api_name} {} {mode} at {rate} req/s, first error: {e}",
                                    r.target
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    println!();
    for &api in apis {
        println!("- {}: {}", api.short(), api.title());
    }
    for n in notes {
        println!("note: {n}");
    }
}

/// Added p50 and p99 of `l` over its baseline `b`: per round (each pair
/// measured minutes apart at most), then the median; with several rounds the
/// p99's range follows in brackets.
fn added(l: &Latency, b: &Latency) -> (String, String) {
    let diffs: Vec<(f64, f64)> = l
        .rounds
        .iter()
        .zip(&b.rounds)
        .map(|(l, b)| (l.0 - b.0, l.1 - b.1))
        .collect();
    let a50 = format!("{:.2}", median(diffs.iter().map(|d| d.0)));
    let mut a99 = format!("{:.2}", median(diffs.iter().map(|d| d.1)));
    if diffs.len() > 1 {
        let lo = diffs.iter().map(|d| d.1).fold(f64::INFINITY, f64::min);
        let hi = diffs.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
        a99.push_str(&format!(" ({lo:.2}–{hi:.2})"));
    }
    (a50, a99)
}
