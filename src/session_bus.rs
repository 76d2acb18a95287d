//! What the user's desktop session offers on its D-Bus session bus: a tray
//! host (a StatusNotifierWatcher, which panels implement) and a notification
//! server. `doctor` reports both; the desktop shell asks for the tray host at
//! start and opens the dashboard when there is none (stock GNOME has none).
//!
//! Freedesktop platforms only (Linux, the BSDs): elsewhere the OS provides
//! both and every answer is [`TrayHost::NotApplicable`] /
//! [`Notifications::NotApplicable`]. Talking to the tray or showing
//! notifications is not here (the shell and `notify` own that).

use std::time::Duration;

/// The well-known name a panel's tray host owns (KDE's spec, used by every
/// StatusNotifierItem host: KDE, Xfce, Cinnamon, waybar, GNOME's AppIndicator
/// extension).
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";
/// The freedesktop notification server's name.
pub(crate) const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
/// A bus or server that has not answered within this is treated as absent:
/// the desktop app must not hang at start on a broken session.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether something will show the tray icon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrayHost {
    Present,
    /// A session bus, but nobody owns [`WATCHER`].
    Missing,
    /// No session bus to ask (a server, an SSH login); the reason.
    NoSessionBus(String),
    /// Not a freedesktop platform: the OS has a tray.
    NotApplicable,
}

/// The notification server, as it describes itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationServer {
    pub(crate) name: String,
    pub(crate) vendor: String,
    pub(crate) version: String,
    /// `GetCapabilities`: "actions" means buttons ("Switch to …") work.
    pub(crate) capabilities: Vec<String>,
}

/// Whether desktop notifications can be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notifications {
    Present(NotificationServer),
    /// A session bus, but no server answered; the reason.
    Missing(String),
    NoSessionBus(String),
    NotApplicable,
}

/// Asks the session bus whether a tray host is there.
pub async fn tray_host() -> TrayHost {
    imp::tray_host().await
}

/// Asks the notification server who it is and what it can do.
pub(crate) async fn notifications() -> Notifications {
    imp::notifications().await
}

#[cfg(all(unix, not(target_os = "macos")))]
mod imp {
    use super::*;

    async fn session() -> Result<zbus::Connection, String> {
        match tokio::time::timeout(CALL_TIMEOUT, zbus::Connection::session()).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("the session bus did not answer within {CALL_TIMEOUT:?}")),
        }
    }

    async fn call<B, R>(
        conn: &zbus::Connection,
        dest: &str,
        path: &str,
        iface: &str,
        method: &str,
        body: &B,
    ) -> Result<R, String>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> serde::Deserialize<'d> + zbus::zvariant::Type,
    {
        let reply = tokio::time::timeout(
            CALL_TIMEOUT,
            conn.call_method(Some(dest), path, Some(iface), method, body),
        )
        .await
        .map_err(|_| format!("{dest} did not answer {method} within {CALL_TIMEOUT:?}"))?
        .map_err(|e| e.to_string())?;
        reply.body().deserialize::<R>().map_err(|e| e.to_string())
    }

    pub(super) async fn tray_host() -> TrayHost {
        let conn = match session().await {
            Ok(c) => c,
            Err(e) => return TrayHost::NoSessionBus(e),
        };
        let owned: Result<bool, String> = call(
            &conn,
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "NameHasOwner",
            &(WATCHER,),
        )
        .await;
        match owned {
            Ok(true) => TrayHost::Present,
            Ok(false) => TrayHost::Missing,
            Err(e) => TrayHost::NoSessionBus(e),
        }
    }

    pub(super) async fn notifications() -> Notifications {
        let conn = match session().await {
            Ok(c) => c,
            Err(e) => return Notifications::NoSessionBus(e),
        };
        const PATH: &str = "/org/freedesktop/Notifications";
        let info: Result<(String, String, String, String), String> = call(
            &conn,
            NOTIFICATIONS,
            PATH,
            NOTIFICATIONS,
            "GetServerInformation",
            &(),
        )
        .await;
        let (name, vendor, version, _spec) = match info {
            Ok(i) => i,
            Err(e) => return Notifications::Missing(e),
        };
        let capabilities: Vec<String> =
            call(&conn, NOTIFICATIONS, PATH, NOTIFICATIONS, "GetCapabilities", &())
                .await
                .unwrap_or_default();
        Notifications::Present(NotificationServer {
            name,
            vendor,
            version,
            capabilities,
        })
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
mod imp {
    use super::*;

    pub(super) async fn tray_host() -> TrayHost {
        TrayHost::NotApplicable
    }

    pub(super) async fn notifications() -> Notifications {
        Notifications::NotApplicable
    }
}
