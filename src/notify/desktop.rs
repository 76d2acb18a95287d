//! The notify-rust [`Notifier`]: freedesktop notifications over the session
//! bus on Linux and the BSDs (zbus, no libdbus), the system's own elsewhere.
//!
//! Used directly rather than through Tauri's notification plugin, which drops
//! errors and has no actions. Failures come back as [`NotifyError`]s for the
//! notifier to log; nothing here is fatal, and a missing server or session bus
//! is tried again at the next notice (a desktop session may start later).

use std::sync::Mutex;

use super::notice::Notice;
use super::{Notifier, NotifyError, Shown};

/// The application name notification servers group notices by.
pub(crate) const APP_NAME: &str = "Switchboard";

/// Shows notices with notify-rust.
#[derive(Debug, Default)]
pub(crate) struct DesktopNotifier {
    /// Whether the server reads markup in bodies (then `&`, `<`, `>` must be
    /// escaped); `None` until a server has answered.
    markup: Mutex<Option<bool>>,
}

impl DesktopNotifier {
    /// Asks the session bus for the notification server and logs what it
    /// finds. Blocking (a D-Bus round trip): call it off the async threads.
    /// Never fails: without a server the notifier still runs, and every notice
    /// is still logged.
    pub(crate) fn connect() -> DesktopNotifier {
        let notifier = DesktopNotifier::default();
        match notifier.server() {
            Ok(server) => tracing::info!("desktop notifications go to {server}"),
            Err(e) => tracing::warn!(
                "no desktop notifications for now (is a notification server running on the \
                 session bus?): {e}; notices are logged and tried again each time"
            ),
        }
        notifier
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
mod xdg {
    use notify_rust::{Notification, Urgency};

    use super::super::notice::{Notice, NoticeKind, SWITCH_ACTION};
    use super::super::{ActionWait, NotifyError, Shown};
    use super::{DesktopNotifier, APP_NAME};
    use crate::model::State;

    /// What notify-rust reports when the notification closed without an action.
    const CLOSED: &str = "__closed";

    impl DesktopNotifier {
        /// "name version by vendor" of the notification server; also learns
        /// whether it reads markup.
        pub(super) fn server(&self) -> Result<String, NotifyError> {
            let info = notify_rust::get_server_information()?;
            let caps = notify_rust::get_capabilities()?;
            self.set_markup(caps.iter().any(|c| c == "body-markup"));
            Ok(format!("{} {} by {}", info.name, info.version, info.vendor))
        }

        fn set_markup(&self, on: bool) {
            *self.markup.lock().unwrap_or_else(|e| e.into_inner()) = Some(on);
        }

        fn markup(&self) -> bool {
            let known = *self.markup.lock().unwrap_or_else(|e| e.into_inner());
            match known {
                Some(on) => on,
                None => match notify_rust::get_capabilities() {
                    Ok(caps) => {
                        let on = caps.iter().any(|c| c == "body-markup");
                        self.set_markup(on);
                        on
                    }
                    // The Notify call that follows fails the same way and says why.
                    Err(_) => false,
                },
            }
        }

        pub(super) fn show_xdg(&self, notice: &Notice, replaces: Option<u32>) -> Result<Shown, NotifyError> {
            let body = if self.markup() {
                escape_markup(&notice.body)
            } else {
                notice.body.clone()
            };
            let mut n = Notification::new();
            n.appname(APP_NAME)
                .summary(&notice.summary)
                .body(&body)
                .icon(icon(notice))
                .urgency(if notice.is_urgent() {
                    Urgency::Critical
                } else {
                    Urgency::Normal
                });
            if let Some(id) = replaces {
                n.id(id);
            }
            if let Some(label) = notice.action_label() {
                n.action(SWITCH_ACTION, &label);
            }
            let handle = n.show()?;
            let id = handle.id();
            let wait = notice.switch_to.is_some().then(|| {
                Box::new(move || {
                    let mut chosen = None;
                    // Returns on the user's action, on the notification
                    // closing, or when the bus goes away.
                    handle.wait_for_action(|action| {
                        if action != CLOSED {
                            chosen = Some(action.to_string());
                        }
                    });
                    chosen
                }) as ActionWait
            });
            Ok(Shown { id, wait })
        }
    }

    /// A freedesktop icon name that fits the notice.
    fn icon(notice: &Notice) -> &'static str {
        match notice.kind {
            NoticeKind::OutageBegan if notice.state == State::Outage => "dialog-error",
            NoticeKind::OutageBegan => "dialog-warning",
            NoticeKind::CredentialProblem => "dialog-password",
            NoticeKind::OutageEnded | NoticeKind::CredentialFixed => "dialog-information",
        }
    }

    /// Bodies may carry markup where the server supports it; an error message
    /// quoting HTML must not be read as markup.
    pub(super) fn escape_markup(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
impl DesktopNotifier {
    pub(super) fn server(&self) -> Result<String, NotifyError> {
        Ok("the system's notification centre".to_string())
    }

    /// macOS and Windows: no actions and no replacement through notify-rust's
    /// portable API; the notice is shown as is.
    fn show_other(&self, notice: &Notice) -> Result<Shown, NotifyError> {
        notify_rust::Notification::new()
            .appname(APP_NAME)
            .summary(&notice.summary)
            .body(&notice.body)
            .show()?;
        Ok(Shown { id: 0, wait: None })
    }
}

impl Notifier for DesktopNotifier {
    fn show(&self, notice: &Notice, replaces: Option<u32>) -> Result<Shown, NotifyError> {
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            self.show_xdg(notice, replaces)
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            let _ = replaces;
            self.show_other(notice)
        }
    }
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::xdg::escape_markup;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup("HTTP 502 <html> & co"),
            "HTTP 502 &lt;html&gt; &amp; co"
        );
    }
}
