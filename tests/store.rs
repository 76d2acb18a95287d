//! History: one contract suite run against both stores (SQLite and memory),
//! uptime arithmetic on a scripted timeline through the report, the report's
//! JSON shape, crash safety under a real `kill -9`, the recorder on a real
//! engine, and `switchboard history` end to end.
//!
//! Also the size benchmark (`bench/history_size.sh`), an ignored test here so
//! that it fills the database through the real code path.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use switchboard::check::{CheckSource, ProviderCheck, Round};
use switchboard::config::{CheckConfig, Config, Provider};
use switchboard::engine::{Clock, Engine};
use switchboard::health::IncidentRecord;
use switchboard::model::{
    Component, ComponentStatus, CredentialSource, Indicator, PageStatus, ProbeClass, ProbeReport, State,
};
use switchboard::status::PageFetch;
use switchboard::store::{
    history_report, history_report_with, max_gap_for, spawn_recorder, CheckRow, HistoryReport, HistoryStore,
    IncidentRow, MemoryStore, SqliteStore, BUCKET, RETENTION,
};

// ---------------------------------------------------------------- helpers

const MINUTE: Duration = Duration::from_secs(60);

/// A fixed "now" for the contract suite: stores never read the clock.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn mins(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

fn check(provider: &str, at: DateTime<Utc>, state: State) -> CheckRow {
    let (status, summary) = match state {
        State::Outage => (Some(500), "HTTP 500 api_error: Internal server error".to_string()),
        State::AuthError => (
            Some(401),
            "HTTP 401 authentication_error: invalid x-api-key".to_string(),
        ),
        State::Degraded => (Some(529), "HTTP 529 overloaded_error: Overloaded".to_string()),
        _ => (Some(200), "OK in 200 ms".to_string()),
    };
    CheckRow {
        provider: provider.into(),
        at,
        state,
        latency_ms: Some(200),
        http_status: status,
        summary,
    }
}

/// One check a minute over `[from, from + minutes)`, state by minute index.
fn minutely(
    provider: &str,
    from: DateTime<Utc>,
    minutes: i64,
    state: impl Fn(i64) -> State,
) -> Vec<CheckRow> {
    (0..minutes)
        .map(|m| check(provider, from + mins(m), state(m)))
        .collect()
}

fn incident(started: DateTime<Utc>) -> IncidentRecord {
    IncidentRecord {
        model: None,
        state: State::Outage,
        started_at: started,
        detected_at: started + TimeDelta::seconds(10),
        acknowledged_at: None,
        ended_at: None,
        cause: "HTTP 500 api_error: Internal server error".into(),
        request_id: Some("req_011CSHoEeqs5C35K2UUqR7Fy".into()),
    }
}

fn keys(rows: &[CheckRow]) -> Vec<(String, DateTime<Utc>)> {
    rows.iter().map(|r| (r.provider.clone(), r.at)).collect()
}

fn assert_close(got: Option<f64>, want: f64) {
    let got = got.expect("an uptime value");
    assert!((got - want).abs() < 1e-9, "uptime {got}, want {want}");
}

// ---------------------------------------------------------------- contract suite

/// Runs every contract scenario against a store made by `$make`.
macro_rules! contract {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            fn store() -> (Box<dyn HistoryStore>, Option<tempfile::TempDir>) {
                #[allow(clippy::redundant_closure_call)]
                ($make)()
            }

            #[test]
            fn record_and_query() {
                let (s, _dir) = store();
                super::record_and_query(s.as_ref());
            }

            #[test]
            fn same_provider_and_time_replaces() {
                let (s, _dir) = store();
                super::same_provider_and_time_replaces(s.as_ref());
            }

            #[test]
            fn timestamps_keep_milliseconds() {
                let (s, _dir) = store();
                super::timestamps_keep_milliseconds(s.as_ref());
            }

            #[test]
            fn incident_upsert_is_idempotent() {
                let (s, _dir) = store();
                super::incident_upsert_is_idempotent(s.as_ref());
            }

            #[test]
            fn incidents_overlapping_the_window() {
                let (s, _dir) = store();
                super::incidents_overlapping_the_window(s.as_ref());
            }

            #[test]
            fn compaction_keeps_the_worst_state_per_bucket() {
                let (s, _dir) = store();
                super::compaction_keeps_the_worst_state_per_bucket(s.as_ref());
            }

            #[test]
            fn retention_deletes_after_90_days() {
                let (s, _dir) = store();
                super::retention_deletes_after_90_days(s.as_ref());
            }

            #[test]
            fn report_uptime_on_a_scripted_timeline() {
                let (s, _dir) = store();
                super::report_uptime_on_a_scripted_timeline(s.as_ref());
            }

            #[test]
            fn report_after_compaction_has_no_holes() {
                let (s, _dir) = store();
                super::report_after_compaction_has_no_holes(s.as_ref());
            }
        }
    };
}

contract!(memory, || (
    Box::new(MemoryStore::new()) as Box<dyn HistoryStore>,
    None
));
contract!(sqlite, || {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("data/switchboard/history.sqlite3")).unwrap();
    (Box::new(s) as Box<dyn HistoryStore>, Some(dir))
});

fn record_and_query(s: &dyn HistoryStore) {
    let t = now() - mins(10);
    for m in 0..3 {
        let round: Vec<CheckRow> = ["openai", "anthropic", "gemini"]
            .iter()
            .map(|p| check(p, t + mins(m), State::Operational))
            .collect();
        s.record_checks(&round).unwrap();
    }
    s.record_checks(&[]).unwrap();

    let all = s.checks(None, t).unwrap();
    assert_eq!(all.len(), 9);
    // Oldest first, then by provider.
    assert_eq!(
        keys(&all[..3]),
        vec![
            ("anthropic".to_string(), t),
            ("gemini".to_string(), t),
            ("openai".to_string(), t)
        ]
    );
    assert_eq!(all[0], check("anthropic", t, State::Operational), "round trip");

    let one = s.checks(Some("gemini"), t + mins(1)).unwrap();
    assert_eq!(
        keys(&one),
        vec![
            ("gemini".to_string(), t + mins(1)),
            ("gemini".to_string(), t + mins(2))
        ],
        "since is inclusive"
    );
    assert!(s.checks(Some("nobody"), t).unwrap().is_empty());
    assert!(s.checks(None, t + mins(3)).unwrap().is_empty());
}

fn same_provider_and_time_replaces(s: &dyn HistoryStore) {
    let t = now();
    s.record_checks(&[check("anthropic", t, State::Operational)])
        .unwrap();
    s.record_checks(&[check("anthropic", t, State::Outage)]).unwrap();
    let rows = s.checks(None, t - mins(1)).unwrap();
    assert_eq!(rows, vec![check("anthropic", t, State::Outage)]);
}

fn timestamps_keep_milliseconds(s: &dyn HistoryStore) {
    let precise = now() + TimeDelta::nanoseconds(123_456_789);
    s.record_checks(&[check("anthropic", precise, State::Operational)])
        .unwrap();
    let rows = s.checks(None, now()).unwrap();
    assert_eq!(rows[0].at, now() + TimeDelta::milliseconds(123));
    let mut inc = incident(precise);
    inc.acknowledged_at = Some(precise);
    s.upsert_incident("anthropic", &inc).unwrap();
    // The same incident sent again with its full-precision start is the same row.
    s.upsert_incident("anthropic", &inc).unwrap();
    let rows = s.incidents(None, now()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].record.started_at, now() + TimeDelta::milliseconds(123));
}

fn incident_upsert_is_idempotent(s: &dyn HistoryStore) {
    let start = now() - mins(60);
    let mut inc = incident(start);
    s.upsert_incident("anthropic", &inc).unwrap();
    s.upsert_incident("anthropic", &inc).unwrap();
    inc.acknowledged_at = Some(inc.detected_at + mins(12));
    s.upsert_incident("anthropic", &inc).unwrap();
    inc.ended_at = Some(start + mins(31));
    s.upsert_incident("anthropic", &inc).unwrap();
    // Same start, other provider: another incident.
    s.upsert_incident("openai", &incident(start)).unwrap();

    let rows = s.incidents(Some("anthropic"), start).unwrap();
    assert_eq!(rows, vec![IncidentRow::new("anthropic", inc.clone())]);
    assert_eq!(rows[0].lead_minutes, Some(12));
    let all = s.incidents(None, start).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].provider, "openai");
    assert_eq!(all[1].lead_minutes, None);
}

fn incidents_overlapping_the_window(s: &dyn HistoryStore) {
    let since = now() - mins(24 * 60);
    let ended = |start: DateTime<Utc>, end: DateTime<Utc>| IncidentRecord {
        ended_at: Some(end),
        ..incident(start)
    };
    // Over before the window: out.
    s.upsert_incident("anthropic", &ended(since - mins(120), since - mins(60)))
        .unwrap();
    // Started before, ended inside: in.
    s.upsert_incident("anthropic", &ended(since - mins(30), since + mins(5)))
        .unwrap();
    // Ends exactly at `since`: touches the window, in.
    s.upsert_incident("openai", &ended(since - mins(10), since))
        .unwrap();
    // Started long before and still open: in.
    s.upsert_incident("gemini", &incident(since - mins(3000)))
        .unwrap();
    // Inside: in.
    s.upsert_incident("anthropic", &ended(now() - mins(90), now() - mins(60)))
        .unwrap();

    let rows = s.incidents(None, since).unwrap();
    let got: Vec<(&str, DateTime<Utc>)> = rows
        .iter()
        .map(|r| (r.provider.as_str(), r.record.started_at))
        .collect();
    assert_eq!(
        got,
        vec![
            ("gemini", since - mins(3000)),
            ("anthropic", since - mins(30)),
            ("openai", since - mins(10)),
            ("anthropic", now() - mins(90)),
        ]
    );
    assert_eq!(s.incidents(Some("anthropic"), since).unwrap().len(), 2);
}

fn compaction_keeps_the_worst_state_per_bucket(s: &dyn HistoryStore) {
    // Three days, one check a minute, aligned so buckets are whole.
    let start = now() - mins(3 * 24 * 60);
    let mut rows = minutely("anthropic", start, 3 * 24 * 60, |m| match m {
        // One bad minute in the bucket [100, 110): the whole bucket shows it.
        103 => State::Outage,
        // Degraded then auth error in [200, 210): auth_error is worse.
        201 => State::Degraded,
        205 => State::AuthError,
        _ => State::Operational,
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.latency_ms = Some(100 + i as u64 % 7);
    }
    rows[104].latency_ms = Some(12_034);
    for round in rows.chunks(60) {
        s.record_checks(round).unwrap();
    }
    s.compact(now()).unwrap();

    let cut = now() - mins(24 * 60);
    let all = s.checks(Some("anthropic"), start).unwrap();
    let (old, recent): (Vec<_>, Vec<_>) = all.iter().partition(|r| r.at < cut);
    assert_eq!(
        old.len(),
        2 * 24 * 6,
        "one row per 10 minutes for the two old days"
    );
    assert_eq!(recent.len(), 24 * 60, "the last day untouched");
    assert!(old.iter().all(|r| (r.at - start).num_seconds() % 600 == 0));

    let bucket = |m: i64| old.iter().find(|r| r.at == start + mins(m)).unwrap();
    assert_eq!(bucket(100).state, State::Outage);
    assert_eq!(bucket(100).http_status, Some(500));
    assert_eq!(bucket(100).summary, "HTTP 500 api_error: Internal server error");
    assert_eq!(bucket(100).latency_ms, Some(12_034), "max latency of the bucket");
    assert_eq!(bucket(200).state, State::AuthError);
    assert_eq!(bucket(110).state, State::Operational);
    assert_eq!(bucket(110).latency_ms, Some(106));

    // Idempotent, and a later compaction only merges what became old.
    s.compact(now()).unwrap();
    assert_eq!(s.checks(Some("anthropic"), start).unwrap(), all);
    s.compact(now() + mins(60)).unwrap();
    let later = s.checks(Some("anthropic"), start).unwrap();
    assert_eq!(later.len(), all.len() - 60 + 6);
    assert_eq!(later[..old.len()], all[..old.len()]);
}

fn retention_deletes_after_90_days(s: &dyn HistoryStore) {
    let edge = now() - TimeDelta::from_std(RETENTION).unwrap();
    s.record_checks(&[
        check("anthropic", edge - mins(10), State::Outage),
        check("anthropic", edge + mins(10), State::Operational),
    ])
    .unwrap();
    let finished_long_ago = IncidentRecord {
        ended_at: Some(edge - mins(1)),
        ..incident(edge - mins(100))
    };
    let finished_inside = IncidentRecord {
        ended_at: Some(edge + mins(1)),
        ..incident(edge - mins(50))
    };
    let never_ended = incident(edge - mins(500));
    for i in [&finished_long_ago, &finished_inside, &never_ended] {
        s.upsert_incident("anthropic", i).unwrap();
    }
    s.compact(now()).unwrap();

    let checks = s.checks(None, edge - mins(1000)).unwrap();
    assert_eq!(checks.len(), 1);
    assert!(
        checks[0].at >= edge - mins(10),
        "only the recent row (now one bucket)"
    );
    assert_eq!(checks[0].state, State::Operational);
    let incidents = s.incidents(None, edge - mins(1000)).unwrap();
    let starts: Vec<_> = incidents.iter().map(|r| r.record.started_at).collect();
    assert_eq!(starts, vec![edge - mins(500), edge - mins(50)]);
}

fn report_uptime_on_a_scripted_timeline(s: &dyn HistoryStore) {
    let day_ago = now() - mins(24 * 60);
    // anthropic: 24 h at 60 s, a 30-minute outage: 1410 / 1440.
    s.record_checks(&minutely("anthropic", day_ago, 24 * 60, |m| {
        if (600..630).contains(&m) {
            State::Outage
        } else {
            State::Operational
        }
    }))
    .unwrap();
    // openai: 2 h of auth errors (excluded), a 4-hour hole (no data, but the
    // check before it holds 2 more minutes), 60 minutes down, the rest up.
    s.record_checks(
        &minutely("openai", day_ago, 24 * 60, |m| match m {
            0..=119 => State::AuthError,
            1000..=1059 => State::Outage,
            _ => State::Operational,
        })
        .into_iter()
        .filter(|r| !(r.at >= day_ago + mins(300) && r.at < day_ago + mins(540)))
        .collect::<Vec<_>>(),
    )
    .unwrap();
    let mut inc = incident(day_ago + mins(600));
    inc.acknowledged_at = Some(inc.detected_at + mins(12));
    inc.ended_at = Some(day_ago + mins(630));
    s.upsert_incident("anthropic", &inc).unwrap();
    s.upsert_incident("openai", &incident(day_ago + mins(1000)))
        .unwrap();

    let providers = vec![
        ("anthropic".to_string(), "Claude API".to_string()),
        ("openai".to_string(), "OpenAI API".to_string()),
        ("gemini".to_string(), "Gemini API".to_string()),
    ];
    let r = history_report_with(s, &providers, day_ago, now(), max_gap_for(MINUTE)).unwrap();
    assert_eq!((r.since, r.until), (day_ago, now()));
    let [a, o, g] = &r.providers[..] else {
        panic!("three providers, in order: {:?}", r.providers);
    };
    assert_eq!((a.id.as_str(), a.name.as_str()), ("anthropic", "Claude API"));
    assert_close(a.uptime.day, 97.916_666_666_666_67);
    // No data before the last day: the longer windows see the same day.
    assert_close(a.uptime.week, 1410.0 / 1440.0 * 100.0);
    assert_close(a.uptime.month, 1410.0 / 1440.0 * 100.0);
    let openai_up = 1440.0 - 120.0 - (240.0 - 2.0) - 60.0;
    assert_close(o.uptime.day, openai_up / (openai_up + 60.0) * 100.0);
    assert_eq!(g.uptime.day, None);
    assert!(g.timeline.is_empty() && g.incidents.is_empty());

    let states: Vec<(i64, i64, State)> = a
        .timeline
        .iter()
        .map(|seg| {
            (
                (seg.from - day_ago).num_minutes(),
                (seg.to - day_ago).num_minutes(),
                seg.state,
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (0, 600, State::Operational),
            (600, 630, State::Outage),
            (630, 1440, State::Operational)
        ]
    );
    // openai's hole is absent from its timeline; the check at 299 holds 3 min (max gap).
    assert!(o.timeline.iter().any(|seg| seg.to == day_ago + mins(302)));
    assert!(o
        .timeline
        .iter()
        .all(|seg| seg.to <= day_ago + mins(302) || seg.from >= day_ago + mins(540)));

    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.detection_lead_minutes, Some(12));
    assert_eq!(o.incidents.len(), 1);
    assert_eq!(o.detection_lead_minutes, None, "the page never acknowledged it");

    // The default-interval entry point agrees for a 60 s interval.
    assert_eq!(history_report(s, &providers, day_ago, now()).unwrap(), r);
}

fn report_after_compaction_has_no_holes(s: &dyn HistoryStore) {
    // Three days at 60 s with a 30-minute outage two days ago on bucket
    // boundaries: after downsampling, the 7-day uptime is unchanged and the
    // old days are one continuous timeline, not 3-minute slivers.
    let start = now() - mins(3 * 24 * 60);
    s.record_checks(&minutely("anthropic", start, 3 * 24 * 60, |m| {
        if (600..630).contains(&m) {
            State::Outage
        } else {
            State::Operational
        }
    }))
    .unwrap();
    let providers = vec![("anthropic".to_string(), "Claude API".to_string())];
    let report = |s: &dyn HistoryStore| {
        history_report_with(s, &providers, start, now(), max_gap_for(MINUTE))
            .unwrap()
            .providers
            .remove(0)
    };
    let before = report(s);
    s.compact(now()).unwrap();
    let after = report(s);
    let want = (3.0 * 1440.0 - 30.0) / (3.0 * 1440.0) * 100.0;
    assert_close(before.uptime.week, want);
    assert_close(after.uptime.week, want);
    assert_eq!(after.timeline, before.timeline);
    assert_eq!(after.timeline.len(), 3);
    assert!(BUCKET > max_gap_for(MINUTE), "the case this test is about");
}

// ---------------------------------------------------------------- report shape

#[test]
fn report_json_has_the_documented_keys() {
    let s = MemoryStore::new();
    let t = now() - mins(30);
    s.record_checks(&minutely("anthropic", t, 30, |m| {
        if m < 10 {
            State::Outage
        } else {
            State::Operational
        }
    }))
    .unwrap();
    let mut inc = incident(t);
    inc.acknowledged_at = Some(t + mins(8));
    s.upsert_incident("anthropic", &inc).unwrap();
    let providers = vec![("anthropic".to_string(), "Claude API".to_string())];
    let report = history_report(&s, &providers, now() - mins(24 * 60), now()).unwrap();
    let json = serde_json::to_value(&report).unwrap();

    let obj_keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let set = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(obj_keys(&json), set(&["since", "until", "providers"]));
    assert_eq!(json["since"], "2026-11-23T12:00:00Z");
    let p = &json["providers"][0];
    assert_eq!(
        obj_keys(p),
        set(&[
            "id",
            "name",
            "uptime",
            "timeline",
            "incidents",
            "detection_lead_minutes"
        ])
    );
    assert_eq!(obj_keys(&p["uptime"]), set(&["24h", "7d", "30d"]));
    assert!(p["uptime"]["24h"].as_f64().unwrap() > 66.0);
    assert_eq!(obj_keys(&p["timeline"][0]), set(&["from", "to", "state"]));
    assert_eq!(p["timeline"][0]["state"], "outage");
    let i = &p["incidents"][0];
    assert_eq!(
        obj_keys(i),
        set(&[
            "provider",
            "state",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "ended_at",
            "cause",
            "request_id",
            "lead_minutes"
        ])
    );
    assert_eq!(i["ended_at"], Value::Null);
    assert_eq!(i["lead_minutes"], 7);
    assert_eq!(p["detection_lead_minutes"], 7);

    let back: HistoryReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report, "the server's clients can read it back");
}

// ---------------------------------------------------------------- crash safety

/// Set in the child's environment: the database the crash writer fills.
const CRASH_DB_ENV: &str = "SWITCHBOARD_TEST_CRASH_DB";
/// First round number the child writes (so successive children do not overlap).
const CRASH_FROM_ENV: &str = "SWITCHBOARD_TEST_CRASH_FROM";
const CRASH_PROVIDERS: [&str; 7] = [
    "anthropic",
    "openai",
    "gemini",
    "vertex",
    "bedrock",
    "openrouter",
    "ollama",
];
/// Commits to see before pulling the plug, per child.
const CRASH_COMMITS: usize = 200;

fn crash_round(n: u64) -> Vec<CheckRow> {
    let at = now() + mins(n as i64);
    CRASH_PROVIDERS
        .iter()
        .map(|p| {
            check(
                p,
                at,
                if n.is_multiple_of(10) {
                    State::Outage
                } else {
                    State::Operational
                },
            )
        })
        .collect()
}

/// Not a test: the child process of `kill_9_mid_write_loses_no_committed_round`.
/// Writes rounds as fast as it can, printing "committed N" after each commit.
#[test]
#[ignore = "helper process for kill_9_mid_write_loses_no_committed_round"]
fn crash_writer_child() {
    let Some(path) = std::env::var_os(CRASH_DB_ENV) else {
        eprintln!("crash_writer_child only runs as a child of kill_9_mid_write_loses_no_committed_round");
        return;
    };
    let from: u64 = std::env::var(CRASH_FROM_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let store = SqliteStore::open(path).unwrap();
    // Straight to the file descriptor, past the test harness's capture.
    let mut out = std::io::stdout().lock();
    for n in from.. {
        store.record_checks(&crash_round(n)).unwrap();
        writeln!(out, "committed {n}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn kill_9_mid_write_loses_no_committed_round() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let mut committed: Vec<u64> = Vec::new();
    // Three children, each killed while writing flat out, on the same file.
    for life in 0..3u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "store::crash_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DB_ENV, &path)
            .env(CRASH_FROM_ENV, (life * 100_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let number = |line: std::io::Result<String>| -> Option<u64> {
            line.unwrap()
                .strip_prefix("committed ")
                .map(|n| n.parse().unwrap())
        };
        let before = committed.len();
        while committed.len() - before < CRASH_COMMITS {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("child {life} stopped early"));
            committed.extend(number(line));
        }
        child.kill().unwrap(); // SIGKILL on Unix: no destructors, no checkpoint.
        child.wait().unwrap();
        // What it printed while we were killing it was committed too.
        committed.extend(lines.filter_map(number));
    }

    let conn = rusqlite::Connection::open(&path).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(conn);

    let store = SqliteStore::open(&path).unwrap();
    let rows = store.checks(None, DateTime::<Utc>::MIN_UTC).unwrap();
    let have: BTreeSet<(String, DateTime<Utc>)> = keys(&rows).into_iter().collect();
    for n in &committed {
        for row in crash_round(*n) {
            assert!(
                have.contains(&(row.provider.clone(), row.at)),
                "round {n} was reported committed but {} is missing",
                row.provider
            );
        }
    }
    // Rounds are all-or-nothing. Beyond what was printed, each child may have
    // committed a round whose line the kill cut off (or cut in half: a partial
    // "commi" is no number), so allow two per child.
    assert_eq!(rows.len() % CRASH_PROVIDERS.len(), 0, "a round was half written");
    let rounds = rows.len() / CRASH_PROVIDERS.len();
    let reported: BTreeSet<u64> = committed.iter().copied().collect();
    assert!(
        (reported.len()..=reported.len() + 6).contains(&rounds),
        "{rounds} rounds for {} reported",
        reported.len()
    );
    eprintln!(
        "kill -9: {} rounds reported committed by 3 killed writers, {rounds} in the file",
        committed.len()
    );
    // And the file still takes writes.
    store.record_checks(&crash_round(999_999)).unwrap();
}

// ---------------------------------------------------------------- recorder on a real engine

const ENGINE_CONFIG: &str = r#"
use_catalog = false
preferred = "anthropic"

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:1"
status_page = "http://127.0.0.1:2/api/v2/summary.json"
status_format = "statuspage"
components = ["k8w3r06qmzrp"]

[[providers]]
id = "openai"
kind = "openai"
base_url = "http://127.0.0.1:3/v1"
"#;

/// Rounds by number: anthropic fails rounds 2..=6 with a 500 and its status
/// page is amber in rounds 4..=6; openai is always fine.
struct ScriptedRounds {
    round: AtomicU32,
}

fn anthropic_fails(round: u32) -> bool {
    (2..=6).contains(&round)
}

fn claude_page(amber: bool) -> PageFetch {
    PageFetch::Read(PageStatus {
        indicator: if amber { Indicator::Minor } else { Indicator::None },
        description: if amber {
            "Elevated Error Rates".into()
        } else {
            "All Systems Operational".into()
        },
        components: vec![Component {
            id: Some("k8w3r06qmzrp".into()),
            name: "Claude API (api.anthropic.com)".into(),
            status: if amber {
                ComponentStatus::DegradedPerformance
            } else {
                ComponentStatus::Operational
            },
            group: None,
        }],
        incidents: vec![],
        maintenances: vec![],
    })
}

impl CheckSource for ScriptedRounds {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a Provider],
        _check: &'a CheckConfig,
        _fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Round> {
        Box::pin(async move {
            let round = self.round.fetch_add(1, Ordering::SeqCst);
            let checks = providers
                .iter()
                .map(|p| {
                    let failing = p.id == "anthropic" && anthropic_fails(round);
                    let probe = ProbeReport {
                        ok: !failing,
                        http_status: Some(if failing { 500 } else { 200 }),
                        error_type: failing.then(|| "api_error".to_string()),
                        message: failing.then(|| "Internal server error".to_string()),
                        request_id: failing.then(|| format!("req_round{round}")),
                        latency_ms: Some(120 + u64::from(round)),
                        at: now,
                        retry_after_secs: None,
                        class: if failing {
                            ProbeClass::ServerError
                        } else {
                            ProbeClass::Ok
                        },
                    };
                    ProviderCheck {
                        id: p.id.clone(),
                        credential: CredentialSource::Env,
                        keyring_error: None,
                        probe: Some(probe),
                        page: p
                            .status_page
                            .as_ref()
                            .map(|_| claude_page((4..=6).contains(&round))),
                        not_running: false,
                    }
                })
                .collect();
            Round {
                at: now,
                checks,
                offline: false,
            }
        })
    }
}

/// Wall time that moves one second per reading: distinct, increasing round
/// times, and never a jump the engine would take for a resume from sleep.
struct SteppingClock {
    base: DateTime<Utc>,
    ticks: AtomicI64,
}

impl Clock for SteppingClock {
    fn now(&self) -> DateTime<Utc> {
        self.base + TimeDelta::seconds(self.ticks.fetch_add(1, Ordering::SeqCst))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorder_stores_rounds_and_the_acknowledged_incident() {
    let config = Config::parse(ENGINE_CONFIG, Path::new("/nonexistent/switchboard-test.toml")).unwrap();
    let config = Config { path: None, ..config };
    let source = Arc::new(ScriptedRounds {
        round: AtomicU32::new(0),
    });
    let clock = Arc::new(SteppingClock {
        // Near the real now: the recorder compacts against the real clock.
        base: Utc::now() - mins(10),
        ticks: AtomicI64::new(0),
    });
    let (handle, engine) = Engine::spawn(config, source.clone(), clock);
    let store = Arc::new(MemoryStore::new());
    let recorder = spawn_recorder(&handle, store.clone(), Duration::from_secs(3600));
    while source.round.load(Ordering::SeqCst) < 10 {
        handle.check_now().await.unwrap();
    }

    // The recorder writes behind the engine: wait for the incident to close.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let incident = loop {
        let rows = store.incidents(None, DateTime::<Utc>::MIN_UTC).unwrap();
        if let Some(done) = rows.into_iter().find(|r| r.record.ended_at.is_some()) {
            break done;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no closed incident recorded: {:#?}\n{:#?}",
            store.incidents(None, DateTime::<Utc>::MIN_UTC).unwrap(),
            store.checks(None, DateTime::<Utc>::MIN_UTC).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(incident.provider, "anthropic");
    assert_eq!(incident.record.state, State::Outage);
    assert_eq!(
        incident.record.request_id.as_deref(),
        Some("req_round2"),
        "first failing request"
    );
    assert!(
        incident.record.cause.contains("HTTP 500 api_error"),
        "{}",
        incident.record.cause
    );
    let ack = incident.record.acknowledged_at.expect("the page turned amber");
    assert!(incident.record.detected_at < ack && ack < incident.record.ended_at.unwrap());
    assert_eq!(incident.lead_minutes, incident.record.lead_minutes());

    let checks = store.checks(None, DateTime::<Utc>::MIN_UTC).unwrap();
    let anthropic: Vec<&CheckRow> = checks.iter().filter(|c| c.provider == "anthropic").collect();
    assert!(anthropic.len() >= 8, "{} anthropic rows", anthropic.len());
    assert!(checks
        .iter()
        .any(|c| c.provider == "openai" && c.state == State::Operational));
    let outage = anthropic
        .iter()
        .find(|c| c.state == State::Outage)
        .expect("the outage was recorded");
    assert_eq!(outage.http_status, Some(500));
    assert!(outage.latency_ms.is_some());
    // Both providers of a round share its time.
    for c in &checks {
        assert!(checks.iter().any(|o| o.at == c.at && o.provider != c.provider));
    }

    // The recorder ends with the engine.
    handle.shutdown().await;
    engine.await.unwrap();
    drop(handle);
    tokio::time::timeout(Duration::from_secs(10), recorder)
        .await
        .expect("recorder stops when the engine is gone")
        .unwrap();
}

/// A store whose writes fail with SQLite's "database or disk is full" while
/// `full` is set, like the history database on a full disk.
struct FillableStore {
    inner: MemoryStore,
    full: std::sync::atomic::AtomicBool,
}

impl FillableStore {
    fn check(&self) -> Result<(), switchboard::store::StoreError> {
        if self.full.load(Ordering::SeqCst) {
            let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL);
            return Err(rusqlite::Error::SqliteFailure(code, Some("database or disk is full".into())).into());
        }
        Ok(())
    }
}

impl HistoryStore for FillableStore {
    fn record_checks(&self, rows: &[CheckRow]) -> Result<(), switchboard::store::StoreError> {
        self.check()?;
        self.inner.record_checks(rows)
    }
    fn upsert_incident(
        &self,
        provider: &str,
        incident: &IncidentRecord,
    ) -> Result<(), switchboard::store::StoreError> {
        self.check()?;
        self.inner.upsert_incident(provider, incident)
    }
    fn checks(
        &self,
        provider: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<CheckRow>, switchboard::store::StoreError> {
        self.inner.checks(provider, since)
    }
    fn incidents(
        &self,
        provider: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<IncidentRow>, switchboard::store::StoreError> {
        self.inner.incidents(provider, since)
    }
    fn compact(&self, now: DateTime<Utc>) -> Result<(), switchboard::store::StoreError> {
        self.check()?;
        self.inner.compact(now)
    }
    fn inference_spent(&self, month: &str) -> Result<f64, switchboard::store::StoreError> {
        self.inner.inference_spent(month)
    }
    fn add_inference_spent(&self, month: &str, usd: f64) -> Result<(), switchboard::store::StoreError> {
        self.check()?;
        self.inner.add_inference_spent(month, usd)
    }
}

/// The recorder's failed writes reach the report through the engine:
/// `history_paused` (since, reason) appears with the first failed round,
/// stays with its first `since` while writes keep failing, rounds go on, and
/// it is gone with the first write that works again. (The same with a real
/// full disk: `faults::full_disk_under_the_history_keeps_monitoring_and_recording_resumes`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_history_writes_are_published_as_history_paused_until_they_work_again() {
    let config = Config::parse(ENGINE_CONFIG, Path::new("/nonexistent/switchboard-test.toml")).unwrap();
    let config = Config { path: None, ..config };
    let source = Arc::new(ScriptedRounds {
        round: AtomicU32::new(0),
    });
    let clock = Arc::new(SteppingClock {
        base: Utc::now() - mins(10),
        ticks: AtomicI64::new(0),
    });
    let (handle, _engine) = Engine::spawn(config, source.clone(), clock);
    let store = Arc::new(FillableStore {
        inner: MemoryStore::new(),
        full: false.into(),
    });
    let _recorder = spawn_recorder(&handle, store.clone(), Duration::from_secs(3600));
    let wait_for = |what: &'static str, pred: fn(&switchboard::model::StatusReport) -> bool| {
        let handle = handle.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let report = handle.status();
                if pred(&report) {
                    return report;
                }
                assert!(tokio::time::Instant::now() < deadline, "waited for {what}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    handle.check_now().await.unwrap();
    assert!(handle.status().history_paused.is_none());
    store.full.store(true, Ordering::SeqCst);
    handle.check_now().await.unwrap();
    let paused = wait_for("history_paused", |r| r.history_paused.is_some()).await;
    let first = paused.history_paused.clone().unwrap();
    assert!(first.reason.contains("database or disk is full"), "{first:?}");
    let json = serde_json::to_value(&*paused).unwrap();
    assert!(json["history_paused"]["since"].is_string(), "{json}");
    assert!(json["history_paused"]["reason"].is_string(), "{json}");

    // More failing rounds: monitoring goes on, the pause keeps its start.
    for _ in 0..3 {
        handle.check_now().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(handle.status().history_paused.as_ref(), Some(&first));

    store.full.store(false, Ordering::SeqCst);
    handle.check_now().await.unwrap();
    let resumed = wait_for("history_paused cleared", |r| r.history_paused.is_none()).await;
    let json = serde_json::to_value(&*resumed).unwrap();
    assert!(json.get("history_paused").is_none(), "{json}");
    assert!(!store.checks(None, DateTime::<Utc>::MIN_UTC).unwrap().is_empty());
}

// ---------------------------------------------------------------- `switchboard history`

const CLI_CONFIG: &str = r#"
use_catalog = false

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"

[[providers]]
id = "openai"
kind = "openai"
name = "OpenAI API"
"#;

struct CliEnv {
    dir: tempfile::TempDir,
}

impl CliEnv {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), CLI_CONFIG).unwrap();
        CliEnv { dir }
    }

    /// Where `switchboard` looks with `XDG_DATA_HOME` set as in [`CliEnv::run`].
    fn db_path(&self) -> PathBuf {
        self.dir.path().join("xdg-data/switchboard/history.sqlite3")
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::cargo_bin("switchboard")
            .unwrap()
            .args(args)
            .env("SWITCHBOARD_CONFIG", self.dir.path().join("config.toml"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.dir.path().join("xdg-data"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn history_cli_reads_the_database_in_the_data_dir() {
    let env = CliEnv::new();
    let real_now = Utc::now();
    let day_ago = real_now - mins(24 * 60);
    {
        let store = SqliteStore::open(env.db_path()).unwrap();
        store
            .record_checks(&minutely("anthropic", day_ago, 24 * 60, |m| {
                if (600..630).contains(&m) {
                    State::Outage
                } else {
                    State::Operational
                }
            }))
            .unwrap();
        store
            .record_checks(&minutely("openai", day_ago, 24 * 60, |_| State::Operational))
            .unwrap();
        let mut acked = incident(day_ago + mins(600));
        acked.acknowledged_at = Some(acked.detected_at + mins(12));
        acked.ended_at = Some(day_ago + mins(631));
        store.upsert_incident("anthropic", &acked).unwrap();
        store
            .upsert_incident("anthropic", &incident(real_now - mins(5)))
            .unwrap();
    }

    let out = env.run(&["history", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &json["providers"][0];
    assert_eq!(a["id"], "anthropic");
    assert_eq!(a["name"], "Claude API");
    // The CLI's "now" is a moment later; the shift moves an up minute, not the outage.
    let day = a["uptime"]["24h"].as_f64().unwrap();
    assert!((day - 1410.0 / 1440.0 * 100.0).abs() < 1e-3, "{day}");
    assert_eq!(a["incidents"].as_array().unwrap().len(), 2);
    assert_eq!(a["detection_lead_minutes"], 12);
    assert_eq!(json["providers"][1]["uptime"]["24h"], 100.0);
    assert_eq!(json["providers"][1]["uptime"]["30d"], 100.0);

    let out = env.run(&["history"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for want in [
        "Claude API",
        "97.91%",
        "100.00%",
        "INCIDENTS (24h)",
        "31 min",
        "ongoing",
        "HTTP 500 api_error: Internal server error (request req_011CSHoEeqs5C35K2UUqR7Fy)",
        "detected 12 min before the status page",
        "not acknowledged by the status page",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }

    // A shorter window lists only the ongoing incident, uptime windows unchanged.
    let out = env.run(&["history", "--since", "30m", "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["providers"][0]["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(json["providers"][0]["detection_lead_minutes"], Value::Null);
}

#[test]
fn history_cli_without_a_database_says_so() {
    let env = CliEnv::new();
    let out = env.run(&["history"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out).trim(), "no history yet: run `switchboard watch`");
    assert!(!env.db_path().exists(), "reading never creates the file");

    let out = env.run(&["history", "--json", "--since", "7d"]);
    assert!(out.status.success(), "{out:?}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let providers = json["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 2);
    assert_eq!(providers[0]["uptime"]["24h"], Value::Null);
    assert_eq!(providers[0]["timeline"], serde_json::json!([]));
    assert!(!env.db_path().exists());
}

#[test]
fn history_cli_rejects_a_bad_since() {
    let env = CliEnv::new();
    for bad in ["yesterday", "24", "0h", "5y"] {
        let out = env.run(&["history", "--since", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--since") && err.contains(bad), "{bad}: {err}");
    }
}

// ---------------------------------------------------------------- size benchmark

/// Set to run [`history_size_benchmark`] (see `bench/history_size.sh`).
const BENCH_ENV: &str = "SWITCHBOARD_BENCH_HISTORY";

/// Not a test: 30 simulated days of 7 providers at one check per 60 s, written
/// the way the recorder writes (one transaction per round, compaction every
/// hour), then the file size. `SWITCHBOARD_BENCH_DAYS` changes the length.
#[test]
#[ignore = "benchmark: bench/history_size.sh"]
fn history_size_benchmark() {
    if std::env::var_os(BENCH_ENV).is_none() {
        eprintln!("set {BENCH_ENV}=1 (bench/history_size.sh does)");
        return;
    }
    let days: i64 = std::env::var("SWITCHBOARD_BENCH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    let start = now() - TimeDelta::days(days);
    let rounds = days * 24 * 60;
    let started = std::time::Instant::now();
    // A small deterministic generator: realistic latencies and a few incidents.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for n in 0..rounds {
        let at = start + mins(n) + TimeDelta::milliseconds((next() % 900) as i64);
        let rows: Vec<CheckRow> = CRASH_PROVIDERS
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let latency = 150 + next() % 700 + i as u64 * 40;
                // About one bad hour a week per provider, a few slow minutes a day.
                let bad = (n / 60 + i as i64 * 29) % 168 == 0;
                let (state, status, summary) = if bad {
                    (
                        State::Outage,
                        Some(500),
                        "HTTP 500 api_error: Internal server error".to_string(),
                    )
                } else if next().is_multiple_of(500) {
                    (
                        State::Degraded,
                        Some(529),
                        "HTTP 529 overloaded_error: Overloaded".to_string(),
                    )
                } else {
                    (State::Operational, Some(200), format!("OK in {latency} ms"))
                };
                CheckRow {
                    provider: (*p).to_string(),
                    at,
                    state,
                    latency_ms: Some(latency),
                    http_status: status,
                    summary,
                }
            })
            .collect();
        store.record_checks(&rows).unwrap();
        if n % 60 == 59 {
            store.compact(at).unwrap();
        }
    }
    let elapsed = started.elapsed();
    let rows = store.checks(None, DateTime::<Utc>::MIN_UTC).unwrap().len();
    let wal = path.with_extension("sqlite3-wal");
    let wal_live = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    drop(store); // the last connection checkpoints and removes the WAL
    let size = std::fs::metadata(&path).unwrap().len();
    let mb = |b: u64| b as f64 / 1_048_576.0;
    println!(
        "history size: {days} days x {} providers at 60 s: {:.2} MB ({size} bytes), {rows} check rows \
         ({} written), WAL while running {:.2} MB, filled in {:.1} s",
        CRASH_PROVIDERS.len(),
        mb(size),
        rounds * CRASH_PROVIDERS.len() as i64,
        mb(wal_live),
        elapsed.as_secs_f64()
    );
}
