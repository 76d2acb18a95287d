//! [`HistoryStore`] in an SQLite file (the `bundled` SQLite, so every platform
//! gets the same engine).
//!
//! Crash safety comes from SQLite, not from us: WAL journaling, one transaction
//! per round, `synchronous = NORMAL`. In WAL mode a commit has reached the OS
//! when it returns, so a killed process (`kill -9`, a crash, a logout) loses at
//! most the round it was writing and never corrupts the file; only a power
//! loss can drop the last few commits, still without corruption. `FULL` would
//! close that window at the price of an fsync every minute (a disk wake-up on
//! laptops) for history that is re-observed within a minute anyway.
//!
//! The schema is versioned with `PRAGMA user_version`: each entry of
//! [`MIGRATIONS`] runs once, in a transaction.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use tracing::warn;

use super::{
    bucket_start, compaction_cutoffs, downsample, from_ms, to_ms, CheckRow, HistoryStore, IncidentRow,
    StoreError, BUCKET_MS,
};
use crate::health::IncidentRecord;
use crate::model::State;

/// How long a statement waits for another connection's lock (the CLI reading
/// while `watch` writes) before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages before SQLite copies them into the database (default 1000). A
/// round writes a page or two, so this checkpoints about hourly and keeps the
/// `-wal` file near 0.5 MB instead of 4 MB beside a 2-3 MB database.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 128;

/// The `-wal` file is truncated back to this after a checkpoint (it is
/// otherwise left at its largest size).
const WAL_SIZE_LIMIT_BYTES: i64 = 1024 * 1024;

/// Schema migrations; `user_version` is the number applied. Append, never edit.
///
/// Times are milliseconds since the epoch (compact, and ordered like time);
/// states are their JSON names, readable with the `sqlite3` shell. `checks` is
/// clustered by time first: a round's rows land together on the last page, so a
/// commit writes one or two pages instead of one per provider, and the reads
/// (a time range, at most ~100k rows) are scans anyway.
const MIGRATIONS: &[&str] = &[
    // 1: checks and incidents.
    "CREATE TABLE checks (
        provider    TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        state       TEXT    NOT NULL,
        latency_ms  INTEGER,
        http_status INTEGER,
        summary     TEXT    NOT NULL,
        PRIMARY KEY (at, provider)
    ) WITHOUT ROWID;
    CREATE TABLE incidents (
        provider        TEXT    NOT NULL,
        started_at      INTEGER NOT NULL,
        state           TEXT    NOT NULL,
        detected_at     INTEGER NOT NULL,
        acknowledged_at INTEGER,
        ended_at        INTEGER,
        cause           TEXT    NOT NULL,
        request_id      TEXT,
        PRIMARY KEY (provider, started_at)
    ) WITHOUT ROWID;",
    // 2: the inference checks' spend per month (US dollars).
    "CREATE TABLE inference_spend (
        month TEXT NOT NULL PRIMARY KEY,
        usd   REAL NOT NULL
    ) WITHOUT ROWID;",
    // 3: the model an incident was about (NULL: the provider as a whole).
    "ALTER TABLE incidents ADD COLUMN model TEXT;",
];

const CHECK_COLUMNS: &str = "provider, at, state, latency_ms, http_status, summary";
const INCIDENT_COLUMNS: &str =
    "provider, started_at, state, detected_at, acknowledged_at, ended_at, cause, request_id, model";

/// The history database. One connection behind a mutex: writes are one small
/// transaction a minute, so a pool would only add contention for the file lock.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Creates the database file readable by its owner only (0600), or narrows
/// an existing one: history names the providers a person uses and when they
/// work. SQLite gives its `-wal` and `-shm` files the database's mode.
#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

impl SqliteStore {
    /// Opens (creating the file and its directories if needed) and migrates.
    /// For the writer: `watch` and the desktop app.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        restrict_to_owner(path).map_err(|source| StoreError::Private {
            path: path.to_path_buf(),
            source,
        })?;
        Self::setup(Connection::open(path)?, path)
    }

    /// Opens an existing history for reading (`switchboard history`): `None`
    /// when there is no file, which is never created here. Statements that
    /// would change the data fail (`query_only`).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Option<Self>, StoreError> {
        let path = path.as_ref();
        if !path.exists() {
            return Ok(None);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let store = Self::setup(Connection::open_with_flags(path, flags)?, path)?;
        store.lock().pragma_update(None, "query_only", true)?;
        Ok(Some(store))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn setup(mut conn: Connection, path: &Path) -> Result<Self, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Some network file systems cannot share memory for the WAL index.
            warn!(path = %path.display(), %mode, "history: WAL unavailable; a crash may lose more");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT_BYTES)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped its transaction, which rolled
        // back: the connection is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    let version = |c: &Connection| -> Result<i64, StoreError> {
        let found: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        Ok(found)
    };
    // Checked outside a transaction first, so a reader of an up-to-date file
    // never takes the write lock.
    if version(conn)? == supported {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Again inside the write transaction: another process may have just migrated.
    let found = version(&tx)?;
    for sql in MIGRATIONS.iter().skip(found as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(())
}

/// A state's stored name back to the state. A name this build does not know (a
/// newer switchboard wrote it) reads as `unknown` rather than failing the report.
fn parse_state(name: &str) -> State {
    State::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .unwrap_or(State::Unknown)
}

type RawCheck = (String, i64, String, Option<i64>, Option<i64>, String);

fn raw_check(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCheck> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn check_row((provider, at, state, latency, status, summary): RawCheck) -> Result<CheckRow, StoreError> {
    Ok(CheckRow {
        provider,
        at: from_ms(at)?,
        state: parse_state(&state),
        latency_ms: latency.and_then(|v| u64::try_from(v).ok()),
        http_status: status.and_then(|v| u16::try_from(v).ok()),
        summary,
    })
}

fn insert_checks(tx: &rusqlite::Transaction<'_>, rows: &[CheckRow]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO checks ({CHECK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))?;
    for r in rows {
        stmt.execute(params![
            r.provider,
            to_ms(r.at),
            r.state.as_str(),
            r.latency_ms.map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
            r.http_status,
            r.summary,
        ])?;
    }
    Ok(())
}

type RawIncident = (
    String,
    i64,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
);

fn raw_incident(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawIncident> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn incident_row(raw: RawIncident) -> Result<IncidentRow, StoreError> {
    let (provider, started, state, detected, acknowledged, ended, cause, request_id, model) = raw;
    let record = IncidentRecord {
        state: parse_state(&state),
        started_at: from_ms(started)?,
        detected_at: from_ms(detected)?,
        acknowledged_at: acknowledged.map(from_ms).transpose()?,
        ended_at: ended.map(from_ms).transpose()?,
        cause,
        request_id,
        model,
    };
    Ok(IncidentRow::new(provider, record))
}

impl HistoryStore for SqliteStore {
    fn record_checks(&self, rows: &[CheckRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_checks(&tx, rows)?;
        tx.commit()?;
        Ok(())
    }

    fn upsert_incident(&self, provider: &str, incident: &IncidentRecord) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.prepare_cached(&format!(
            "INSERT OR REPLACE INTO incidents ({INCIDENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))?
        .execute(params![
            provider,
            to_ms(incident.started_at),
            incident.state.as_str(),
            to_ms(incident.detected_at),
            incident.acknowledged_at.map(to_ms),
            incident.ended_at.map(to_ms),
            incident.cause,
            incident.request_id,
            incident.model,
        ])?;
        Ok(())
    }

    fn inference_spent(&self, month: &str) -> Result<f64, StoreError> {
        let conn = self.lock();
        let usd: Option<f64> = conn
            .prepare_cached("SELECT usd FROM inference_spend WHERE month = ?1")?
            .query_row(params![month], |r| r.get(0))
            .optional()?;
        Ok(usd.unwrap_or(0.0))
    }

    fn add_inference_spent(&self, month: &str, usd: f64) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO inference_spend (month, usd) VALUES (?1, ?2)
             ON CONFLICT (month) DO UPDATE SET usd = usd + excluded.usd",
        )?
        .execute(params![month, usd])?;
        // Month keys sort like time: keep the newest few.
        tx.prepare_cached(
            "DELETE FROM inference_spend WHERE month NOT IN
             (SELECT month FROM inference_spend ORDER BY month DESC LIMIT ?1)",
        )?
        .execute(params![super::SPEND_MONTHS_KEPT as i64])?;
        tx.commit()?;
        Ok(())
    }

    fn checks(&self, provider: Option<&str>, since: DateTime<Utc>) -> Result<Vec<CheckRow>, StoreError> {
        let conn = self.lock();
        let raw: Vec<RawCheck> = match provider {
            Some(p) => conn
                .prepare_cached(&format!(
                    "SELECT {CHECK_COLUMNS} FROM checks WHERE provider = ?1 AND at >= ?2 ORDER BY at"
                ))?
                .query_map(params![p, to_ms(since)], raw_check)?
                .collect::<Result<_, _>>()?,
            None => conn
                .prepare_cached(&format!(
                    "SELECT {CHECK_COLUMNS} FROM checks WHERE at >= ?1 ORDER BY at, provider"
                ))?
                .query_map(params![to_ms(since)], raw_check)?
                .collect::<Result<_, _>>()?,
        };
        drop(conn);
        raw.into_iter().map(check_row).collect()
    }

    fn incidents(
        &self,
        provider: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<IncidentRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents
             WHERE (ended_at IS NULL OR ended_at >= ?1) AND (?2 IS NULL OR provider = ?2)
             ORDER BY started_at, provider"
        ))?;
        let raw: Vec<RawIncident> = stmt
            .query_map(params![to_ms(since), provider], raw_incident)?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        drop(conn);
        raw.into_iter().map(incident_row).collect()
    }

    fn compact(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (retain_from, raw_from) = compaction_cutoffs(now);
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM checks WHERE at < ?1", [retain_from])?;
        tx.execute(
            "DELETE FROM incidents WHERE ended_at IS NOT NULL AND ended_at < ?1",
            [retain_from],
        )?;
        // Per provider, from the first bucket holding a row not yet merged (not
        // at its bucket's start) up to the cut-off: usually the last hour's buckets.
        let pending: Vec<(String, i64)> = tx
            .prepare(&format!(
                "SELECT provider, MIN(at) FROM checks WHERE at < ?1 AND at % {BUCKET_MS} != 0 GROUP BY provider"
            ))?
            .query_map([raw_from], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (provider, first) in pending {
            let from = bucket_start(first);
            let raw: Vec<RawCheck> = tx
                .prepare_cached(&format!(
                    "SELECT {CHECK_COLUMNS} FROM checks WHERE provider = ?1 AND at >= ?2 AND at < ?3 ORDER BY at"
                ))?
                .query_map(params![provider, from, raw_from], raw_check)?
                .collect::<Result<_, _>>()?;
            let rows = raw.into_iter().map(check_row).collect::<Result<Vec<_>, _>>()?;
            tx.execute(
                "DELETE FROM checks WHERE provider = ?1 AND at >= ?2 AND at < ?3",
                params![provider, from, raw_from],
            )?;
            insert_checks(&tx, &downsample(&rows))?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_by_name() {
        for s in State::ALL {
            assert_eq!(parse_state(s.as_str()), s);
        }
        assert_eq!(parse_state("on_fire"), State::Unknown);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        match SqliteStore::open(&path) {
            Err(StoreError::TooNew { found: 99, supported }) => {
                assert_eq!(supported, MIGRATIONS.len() as i64)
            }
            other => panic!("expected TooNew, got {other:?}"),
        }
    }

    #[test]
    fn opening_twice_keeps_the_schema_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/h.sqlite3");
        let first = SqliteStore::open(&path).unwrap();
        let second = SqliteStore::open(&path).unwrap();
        let conn = second.lock();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        drop(conn);
        drop(first);
    }

    #[test]
    fn open_existing_does_not_create_and_is_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite3");
        assert!(SqliteStore::open_existing(&path).unwrap().is_none());
        assert!(!path.exists());
        drop(SqliteStore::open(&path).unwrap());
        let reader = SqliteStore::open_existing(&path).unwrap().unwrap();
        assert!(reader.checks(None, DateTime::<Utc>::MIN_UTC).unwrap().is_empty());
        let row = CheckRow {
            provider: "p".into(),
            at: Utc::now(),
            state: State::Operational,
            latency_ms: None,
            http_status: None,
            summary: String::new(),
        };
        assert!(reader.record_checks(&[row]).is_err());
    }
}
