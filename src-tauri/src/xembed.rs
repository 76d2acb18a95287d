//! Whether an X11 panel offers an XEmbed system tray (the freedesktop System
//! Tray spec: the owner of the `_NET_SYSTEM_TRAY_S<screen>` selection).
//! libayatana falls back to one when no StatusNotifierWatcher is on the bus,
//! so a panel like tint2 or stalonetray shows the icon without a watcher.
//! Only that question; the watcher is `switchboard::session_bus`.

#[cfg(target_os = "linux")]
use std::ffi::CString;

/// `true` when the display's default screen has a system tray owner. No X
/// display (Wayland without Xwayland, a server) or no libX11: `false`.
#[cfg(target_os = "linux")]
pub fn tray_present() -> bool {
    use x11_dl::xlib::Xlib;
    let Ok(xlib) = Xlib::open() else {
        return false;
    };
    // SAFETY: plain Xlib calls on a display this function opens and closes;
    // no pointer outlives it.
    unsafe {
        let dpy = (xlib.XOpenDisplay)(std::ptr::null());
        if dpy.is_null() {
            return false;
        }
        let screen = (xlib.XDefaultScreen)(dpy);
        let owned = match CString::new(format!("_NET_SYSTEM_TRAY_S{screen}")) {
            Ok(name) => {
                // only_if_exists: no tray ever ran, no atom, no owner.
                let atom = (xlib.XInternAtom)(dpy, name.as_ptr(), 1);
                atom != 0 && (xlib.XGetSelectionOwner)(dpy, atom) != 0
            }
            Err(_) => false,
        };
        (xlib.XCloseDisplay)(dpy);
        owned
    }
}

#[cfg(not(target_os = "linux"))]
pub fn tray_present() -> bool {
    false
}
