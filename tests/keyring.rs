//! `KeyringStore` against a real Secret Service: gnome-keyring on the private
//! session bus that `scripts/with-secret-service.sh` starts (`make test` runs
//! every test under it).
//!
//! Without a session bus the round-trip tests print a skip note and pass, except
//! under `CI` or `SWITCHBOARD_REQUIRE_KEYRING=1`, where they fail (see
//! [`crate::common::secret_service_or_skip`]). The no-bus behaviour itself is
//! tested in a child process with the bus taken away (the bus address is
//! process-wide environment, shared with the other tests).
//!
//! The Secret Service is shared by every test (and every process) on the bus,
//! so each test uses its own accounts, named after the test and the process id,
//! and removes them even when it fails.

use std::io::Write;
use std::process::{Command, Stdio};

use switchboard::secrets::{KeyringStore, Secret, SecretError, SecretStore, SERVICE};

use crate::common::{keyring_required, secret_service_or_skip};

/// Marks the child process of [`no_bus_means_unavailable_not_a_panic`].
const NO_BUS_CHILD: &str = "SWITCHBOARD_TEST_NO_BUS_CHILD";
/// Printed by the child when every call returned `Unavailable`.
const NO_BUS_CHILD_OK: &str = "no-bus-child: all calls returned Unavailable";

/// A keyring account used by one test; deleted when dropped (also on panic).
struct Account(String);

impl Account {
    fn new(test: &str, tag: &str) -> Self {
        Account(format!("test-{}-{test}-{tag}", std::process::id()))
    }

    fn id(&self) -> &str {
        &self.0
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        let _ = KeyringStore::new().delete(&self.0);
    }
}

/// The store when a Secret Service on the bus accepts a write; `None` after a
/// skip note when it does not and nothing requires it.
fn keyring(test: &str) -> Option<KeyringStore> {
    if !secret_service_or_skip(test) {
        return None;
    }
    // A write, not just a read: a daemon without an unlocked `login` collection
    // (e.g. one that D-Bus activated on its own) answers reads but refuses writes.
    let probe = Account::new(test, "probe");
    let err = match KeyringStore::new().set(probe.id(), &Secret::new("probe")) {
        Ok(()) => return Some(KeyringStore::new()),
        Err(e) => e,
    };
    let why = format!(
        "the Secret Service refuses a write: {err} (scripts/with-secret-service.sh starts one that works)"
    );
    if keyring_required() {
        panic!("{test}: {why}");
    }
    eprintln!("note: skipping {test}: {why}");
    None
}

fn value(store: &KeyringStore, id: &str) -> Option<String> {
    store
        .get(id)
        .unwrap_or_else(|e| panic!("get {id}: {e}"))
        .map(|s| s.expose().to_string())
}

/// Runs `secret-tool`; `None` when it is not installed.
fn secret_tool(args: &[&str], stdin: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("secret-tool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("secret-tool: {e}"),
    };
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// What another Secret Service client finds under the attributes the keyring
/// crate writes (`service`, `username`): `None` when there is no such item.
fn lookup_elsewhere(id: &str) -> Option<String> {
    let (ok, out) = secret_tool(&["lookup", "service", SERVICE, "username", id], "")?;
    ok.then_some(out)
}

fn secret_tool_or_skip(test: &str) -> bool {
    if secret_tool(&["--version"], "").is_some() {
        return true;
    }
    if keyring_required() {
        panic!("{test}: secret-tool (package libsecret-tools) is missing; run `make setup`");
    }
    eprintln!("note: skipping {test}: secret-tool (package libsecret-tools) is not installed");
    false
}

#[test]
fn set_get_overwrite_delete() {
    let Some(store) = keyring("set_get_overwrite_delete") else {
        return;
    };
    let account = Account::new("set_get_overwrite_delete", "anthropic");
    let id = account.id();

    store.set(id, &Secret::new("sk-ant-first")).unwrap();
    assert_eq!(value(&store, id).as_deref(), Some("sk-ant-first"));

    store.set(id, &Secret::new("sk-ant-second")).unwrap();
    assert_eq!(value(&store, id).as_deref(), Some("sk-ant-second"), "overwrite");

    assert!(store.delete(id).unwrap(), "delete of a stored key reports true");
    assert_eq!(value(&store, id), None, "gone after delete");
    assert!(!store.delete(id).unwrap(), "second delete reports false");
}

#[test]
fn unicode_and_long_values_round_trip() {
    let Some(store) = keyring("unicode_and_long_values_round_trip") else {
        return;
    };
    let long: String = "sk-proj-0123456789abcdef-ключ-🔑-".repeat(200);
    let values = [
        "ключ-🔑-密钥-äöü-\u{200d}",
        "  inner spaces, a tab\tand a newline\n kept  ",
        long.as_str(),
    ];
    for (i, v) in values.iter().enumerate() {
        let account = Account::new("unicode_and_long_values_round_trip", &i.to_string());
        store.set(account.id(), &Secret::new(*v)).unwrap();
        assert_eq!(value(&store, account.id()).as_deref(), Some(*v), "value {i}");
        assert!(store.delete(account.id()).unwrap());
    }
}

#[test]
fn never_set_is_none_and_empty_is_refused() {
    let Some(store) = keyring("never_set_is_none_and_empty_is_refused") else {
        return;
    };
    let account = Account::new("never_set_is_none_and_empty_is_refused", "x");
    assert_eq!(value(&store, account.id()), None);
    assert!(!store.delete(account.id()).unwrap());

    assert!(matches!(
        store.set(account.id(), &Secret::new(" \n")),
        Err(SecretError::Empty)
    ));
    assert_eq!(
        value(&store, account.id()),
        None,
        "a refused secret writes nothing"
    );
}

/// The key lands in the Secret Service as service `switchboard`, account =
/// provider id, where other clients (secret-tool, Seahorse, keyring-rs in other
/// apps) find it, and keys stored by them are read back.
#[test]
fn stored_under_service_switchboard_and_account_id() {
    let test = "stored_under_service_switchboard_and_account_id";
    let Some(store) = keyring(test) else {
        return;
    };
    if !secret_tool_or_skip(test) {
        return;
    }

    let ours = Account::new(test, "ours");
    store.set(ours.id(), &Secret::new("sk-from-switchboard")).unwrap();
    assert_eq!(
        lookup_elsewhere(ours.id()).as_deref(),
        Some("sk-from-switchboard")
    );
    assert!(store.delete(ours.id()).unwrap());
    assert_eq!(
        lookup_elsewhere(ours.id()),
        None,
        "delete removes the item itself"
    );

    let theirs = Account::new(test, "theirs");
    let (ok, _) = secret_tool(
        &[
            "store",
            "--label=switchboard test",
            "service",
            SERVICE,
            "username",
            theirs.id(),
        ],
        "sk-from-secret-tool",
    )
    .unwrap();
    assert!(ok, "secret-tool store failed");
    assert_eq!(value(&store, theirs.id()).as_deref(), Some("sk-from-secret-tool"));
    assert!(store.delete(theirs.id()).unwrap());
    assert_eq!(lookup_elsewhere(theirs.id()), None);
}

/// With no session bus at all, every call is `SecretError::Unavailable` (so the
/// CLI can fall back to the environment variable and say why), not a panic.
///
/// Runs [`no_bus_child`] in a child process of this same test binary, because
/// the keyring crate picks its store once per process.
#[test]
fn no_bus_means_unavailable_not_a_panic() {
    let runtime_dir = tempfile::tempdir().unwrap();
    // The helper's test name in this binary: module path without the crate name.
    let child = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::no_bus_child"),
        None => "no_bus_child".to_string(),
    };
    let out = Command::new(std::env::current_exe().unwrap())
        .args([child.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(NO_BUS_CHILD, "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        // zbus falls back to $XDG_RUNTIME_DIR/bus: point it at an empty dir.
        .env("XDG_RUNTIME_DIR", runtime_dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(NO_BUS_CHILD_OK),
        "child failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

/// Helper of [`no_bus_means_unavailable_not_a_panic`]: does nothing unless
/// started by it.
#[test]
fn no_bus_child() {
    if std::env::var_os(NO_BUS_CHILD).is_none() {
        return;
    }
    assert!(std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none());
    let id = format!("test-{}-no-bus", std::process::id());
    let results = [
        ("get", KeyringStore::new().get(&id).map(|_| ())),
        (
            "set",
            KeyringStore::new().set(&id, &Secret::new("sk-never-stored")),
        ),
        ("delete", KeyringStore::new().delete(&id).map(|_| ())),
    ];
    for (call, result) in results {
        match result {
            Err(SecretError::Unavailable(why)) => println!("no-bus-child: {call}: Unavailable: {why}"),
            other => panic!("{call} without a bus: expected Unavailable, got {other:?}"),
        }
    }
    println!("{NO_BUS_CHILD_OK}");
}
