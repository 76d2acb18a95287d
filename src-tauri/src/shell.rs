//! The Tauri side: tray icon and menu, the lazily created dashboard window,
//! single instance, and the exit rules. What the tray shows comes from
//! `switchboard::tray` (pure); this file only puts it on screen and turns
//! menu clicks into engine calls.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use switchboard::app::{Options, Running};
use switchboard::config::Config;
use switchboard::engine::EngineHandle;
use switchboard::notify::{NotifierHandle, Pause};
use switchboard::session_bus::{self, TrayHost};
use switchboard::tray::{self, IconKey, ProviderItem, TrayView};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, Wry};
use tokio::sync::oneshot;

use crate::autostart;

const TRAY_ID: &str = "main";
const WINDOW: &str = "dashboard";
/// Pixel size of the tray icon handed to the panel.
const ICON_SIZE: u32 = 32;
/// Status bursts (a round of checks finishing provider by provider) within
/// this window become one menu update.
const COALESCE: Duration = Duration::from_millis(250);
/// The header holds relative times ("checked 1 min ago"): refresh it anyway.
const REFRESH: Duration = Duration::from_secs(30);
const PROVIDER_PREFIX: &str = "provider:";

/// Shared by the menu handler, the status follower and the exit handler.
struct Shell {
    engine: EngineHandle,
    notifier: Option<NotifierHandle>,
    url: String,
    rt: tokio::runtime::Handle,
    /// `None` when the tray could not be created (no appindicator library).
    menu: Mutex<Option<MenuState>>,
    /// Why there is no tray icon, when there is none: the dashboard then
    /// opens at start and says so (`?tray=<reason>`, ui/render.js).
    no_tray: Mutex<Option<NoTray>>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    done: Mutex<Option<tokio::task::JoinHandle<anyhow::Result<()>>>>,
}

/// Why the tray icon cannot be seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoTray {
    /// Nobody owns org.kde.StatusNotifierWatcher (stock GNOME, bare window
    /// managers), or there is no session bus: libayatana would fall back to
    /// an XEmbed icon that nothing shows.
    NoHost,
    /// libayatana-appindicator3 is missing: no tray at all.
    NoLibrary,
}

impl NoTray {
    /// The dashboard's `tray` query parameter.
    fn query(self) -> &'static str {
        match self {
            NoTray::NoHost => "no-host",
            NoTray::NoLibrary => "no-library",
        }
    }
}

struct MenuState {
    header: MenuItem<Wry>,
    providers_menu: Submenu<Wry>,
    providers: Vec<(String, CheckMenuItem<Wry>)>,
    auto_switch: CheckMenuItem<Wry>,
    passive: CheckMenuItem<Wry>,
    open_status: MenuItem<Wry>,
    resume: MenuItem<Wry>,
    autostart: CheckMenuItem<Wry>,
    /// What is on screen now: updates touch only what changed.
    shown: TrayView,
}

/// Builds and runs the app. Never returns on success: Tauri's event loop
/// exits the process (with 0 on "Quit").
pub fn run(rt: tokio::runtime::Runtime, config: Config) -> anyhow::Result<()> {
    let handle = rt.handle().clone();
    let app = tauri::Builder::default()
        // First: a second launch hands over to the first (which opens its
        // dashboard) and exits before binding the server's port.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!(?argv, "launched again: opening the dashboard");
            open_dashboard(app);
        }))
        .setup(move |app| {
            let options = Options {
                allow_remote: false,
                notify: true,
            };
            let running = handle.block_on(switchboard::app::start(config, options))?;
            setup(app.handle(), handle.clone(), running);
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start the desktop app")?;
    app.run(move |app, event| match event {
        // Closing the dashboard (the only window) must not end the app: only
        // "Quit" (app.exit, which carries a code) does.
        RunEvent::ExitRequested { code: None, api, .. } => api.prevent_exit(),
        RunEvent::Exit => stop_engine(app),
        RunEvent::WindowEvent {
            label,
            event: tauri::WindowEvent::Destroyed,
            ..
        } if label == WINDOW => release_web_memory(app.clone()),
        _ => {}
    });
    drop(rt);
    Ok(())
}

fn setup(app: &AppHandle, rt: tokio::runtime::Handle, running: Running) {
    let engine = running.engine.clone();
    let notifier = running.notifier.clone();
    let url = running.url();
    tracing::info!(%url, "dashboard");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let done = rt.spawn(running.run_until(async {
        let _ = stop_rx.await;
    }));
    let shell = Arc::new(Shell {
        engine,
        notifier,
        url,
        rt: rt.clone(),
        menu: Mutex::new(None),
        no_tray: Mutex::new(None),
        stop: Mutex::new(Some(stop_tx)),
        done: Mutex::new(Some(done)),
    });
    app.manage(shell.clone());

    // libayatana-appindicator is loaded at run time; without it tray-icon
    // panics. The engine, server and dashboard still work (single-instance
    // relaunch opens the dashboard), so log and go on.
    let no_tray = match std::panic::catch_unwind(AssertUnwindSafe(|| create_tray(app, &shell))) {
        Ok(Ok(state)) => {
            *shell.menu.lock().unwrap() = Some(state);
            None
        }
        Ok(Err(e)) => {
            tracing::error!("cannot create the tray icon: {e:#}");
            Some(NoTray::NoLibrary)
        }
        Err(_) => {
            tracing::error!(
                "cannot create the tray icon (is libayatana-appindicator3 installed?); \
                 running without it: the dashboard is at {}",
                shell.url
            );
            Some(NoTray::NoLibrary)
        }
    };
    // A tray icon nobody shows is no tray: without a host the app would
    // start invisible, so the dashboard opens and says why.
    let no_tray = no_tray.or_else(|| match rt.block_on(session_bus::tray_host()) {
        TrayHost::Present | TrayHost::NotApplicable => None,
        // libayatana's XEmbed fallback: a panel like tint2 shows the icon.
        TrayHost::Missing | TrayHost::NoSessionBus(_) if crate::xembed::tray_present() => None,
        TrayHost::Missing => {
            tracing::warn!("no tray host ({}): opening the dashboard", session_bus::WATCHER);
            Some(NoTray::NoHost)
        }
        TrayHost::NoSessionBus(why) => {
            tracing::warn!("no session bus ({why}): no tray; opening the dashboard");
            Some(NoTray::NoHost)
        }
    });
    if let Some(reason) = no_tray {
        *shell.no_tray.lock().unwrap() = Some(reason);
        open_dashboard(app);
    }

    rt.spawn(follow_status(app.clone(), shell.clone()));
    rt.spawn(stop_on_signal(app.clone()));
}

/// The tray's switch for `[passive]` (both agents).
const PASSIVE_LABEL: &str = "Learn from my Claude Code and Codex errors";

fn create_tray(app: &AppHandle, shell: &Shell) -> anyhow::Result<MenuState> {
    let report = shell.engine.status();
    let view = tray::tray_view(&report, Utc::now());

    let header = MenuItem::with_id(app, "header", &view.header, false, None::<&str>)?;
    let providers: Vec<(String, CheckMenuItem<Wry>)> = view
        .providers
        .iter()
        .map(|p| provider_item(app, p).map(|item| (p.id.clone(), item)))
        .collect::<Result<_, _>>()?;
    let provider_refs: Vec<&dyn tauri::menu::IsMenuItem<Wry>> = providers
        .iter()
        .map(|(_, i)| i as &dyn tauri::menu::IsMenuItem<Wry>)
        .collect();
    let providers_menu =
        Submenu::with_id_and_items(app, "preferred", "Preferred provider", true, &provider_refs)?;
    let auto_switch = CheckMenuItem::with_id(
        app,
        "auto_switch",
        "Switch automatically when preferred fails",
        true,
        view.auto_switch,
        None::<&str>,
    )?;
    let passive = CheckMenuItem::with_id(app, "passive", PASSIVE_LABEL, true, view.passive, None::<&str>)?;
    let check_now = MenuItem::with_id(app, "check_now", "Check now", true, None::<&str>)?;
    let open_dashboard = MenuItem::with_id(app, "open_dashboard", "Open dashboard", true, None::<&str>)?;
    let open_status = MenuItem::with_id(
        app,
        "open_status",
        "Open status page",
        view.status_url.is_some(),
        None::<&str>,
    )?;
    let pause_hour = MenuItem::with_id(app, "pause_hour", "For 1 hour", true, None::<&str>)?;
    let pause_tomorrow = MenuItem::with_id(app, "pause_tomorrow", "Until tomorrow", true, None::<&str>)?;
    let resume = MenuItem::with_id(app, "pause_resume", "Resume", false, None::<&str>)?;
    let pause_menu = Submenu::with_id_and_items(
        app,
        "pause",
        "Pause notifications",
        shell.notifier.is_some(),
        &[&pause_hour, &pause_tomorrow, &resume],
    )?;
    let autostart = CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        autostart::entry_path().is_some(),
        autostart::is_enabled(),
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = || PredefinedMenuItem::separator(app);
    let menu = Menu::with_items(
        app,
        &[
            &header,
            &sep()?,
            &providers_menu,
            &auto_switch,
            &passive,
            &check_now,
            &sep()?,
            &open_dashboard,
            &open_status,
            &sep()?,
            &pause_menu,
            &autostart,
            &sep()?,
            &quit,
        ],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(view.icon)?)
        .tooltip(&view.tooltip)
        .menu(&menu)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(MenuState {
        header,
        providers_menu,
        providers,
        auto_switch,
        passive,
        open_status,
        resume,
        autostart,
        shown: view,
    })
}

fn provider_item(app: &AppHandle, p: &ProviderItem) -> tauri::Result<CheckMenuItem<Wry>> {
    CheckMenuItem::with_id(
        app,
        format!("{PROVIDER_PREFIX}{}", p.id),
        &p.label,
        true,
        p.checked,
        None::<&str>,
    )
}

fn icon(key: IconKey) -> tauri::Result<Image<'static>> {
    Image::from_bytes(tray::icon_png(key, ICON_SIZE))
}

fn shell(app: &AppHandle) -> Arc<Shell> {
    app.state::<Arc<Shell>>().inner().clone()
}

fn on_menu(app: &AppHandle, id: &str) {
    let sh = shell(app);
    match id {
        "check_now" => {
            let engine = sh.engine.clone();
            sh.rt.spawn(async move {
                if let Err(e) = engine.check_now().await {
                    tracing::warn!("check now: {e}");
                }
            });
        }
        "auto_switch" => {
            // A click toggles what the engine has (not what the item shows:
            // a tray update may have reset the item between GTK's toggle and
            // this handler). The status follower then draws the result.
            let on = !sh.engine.current_config().auto_switch;
            let engine = sh.engine.clone();
            sh.rt.spawn(async move {
                if let Err(e) = engine.set_auto_switch(on).await {
                    tracing::warn!("cannot set auto switch: {e}");
                }
            });
            refresh_soon(app, &sh);
        }
        "passive" => {
            // Consent for both agents at once: the dashboard has the details
            // (what is read, per agent) and a switch for each.
            let passive = sh.engine.current_config().passive;
            let on = !(passive.claude_code || passive.codex);
            let engine = sh.engine.clone();
            sh.rt.spawn(async move {
                let settings = switchboard::model::PassiveSettings {
                    claude_code: on,
                    codex: on,
                };
                if let Err(e) = engine.set_passive(settings).await {
                    tracing::warn!("cannot change reading session logs: {e}");
                }
            });
            refresh_soon(app, &sh);
        }
        "open_dashboard" => open_dashboard(app),
        "open_status" => {
            let url = with_menu(&sh, |m| m.shown.status_url.clone());
            if let Some(url) = url {
                open_url(&url);
            }
        }
        "pause_hour" => set_pause(app, &sh, Pause::for_one_hour(Utc::now())),
        "pause_tomorrow" => set_pause(app, &sh, Pause::until_tomorrow(Utc::now())),
        "pause_resume" => set_pause(app, &sh, Pause::None),
        "autostart" => {
            let on = with_menu(&sh, |m| m.autostart.is_checked().unwrap_or(false));
            if let Err(e) = autostart::set_enabled(on) {
                tracing::warn!("cannot change the autostart entry: {e}");
            }
            let actual = autostart::is_enabled();
            with_menu(&sh, |m| {
                let _ = m.autostart.set_checked(actual);
            });
        }
        "quit" => app.exit(0),
        other => {
            if let Some(clicked) = other.strip_prefix(PROVIDER_PREFIX) {
                choose_provider(app, &sh, clicked);
            }
        }
    }
}

/// Radio behaviour over check items: GTK toggled the clicked one; set every
/// item to what `radio_after_click` says, then tell the engine.
fn choose_provider(app: &AppHandle, sh: &Arc<Shell>, clicked: &str) {
    let chosen = with_menu(sh, |m| {
        let (chosen, states) = tray::radio_after_click(&m.shown.providers, clicked);
        for (id, checked) in &states {
            if let Some((_, item)) = m.providers.iter().find(|(pid, _)| pid == id) {
                let _ = item.set_checked(*checked);
            }
        }
        chosen
    });
    if let Some(id) = chosen {
        tracing::info!(provider = %id, "preferred provider chosen in the tray");
        let engine = sh.engine.clone();
        sh.rt.spawn(async move {
            if let Err(e) = engine.set_preferred(&id).await {
                tracing::warn!("cannot make {id} the preferred provider: {e}");
            }
        });
    }
    refresh_soon(app, sh);
}

fn set_pause(app: &AppHandle, sh: &Arc<Shell>, pause: Pause) {
    if let Some(n) = &sh.notifier {
        n.set_pause(pause);
    }
    refresh_soon(app, sh);
}

/// Runs `f` on the menu state; a default when there is no tray.
fn with_menu<T: Default>(sh: &Shell, f: impl FnOnce(&mut MenuState) -> T) -> T {
    sh.menu.lock().unwrap().as_mut().map(f).unwrap_or_default()
}

/// Re-applies the engine's truth after a click, so a refused change does not
/// leave the menu showing it.
fn refresh_soon(app: &AppHandle, sh: &Arc<Shell>) {
    let app = app.clone();
    let sh2 = sh.clone();
    sh.rt.spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        apply_on_main(&app, &sh2);
    });
}

/// Runs [`apply`] on the GTK main thread. A menu item's setter blocks until
/// the main thread runs it, and a click handler (on the main thread) takes
/// the menu lock: applying from a worker while holding that lock deadlocked
/// the whole app when a click came in between (the tray stopped answering
/// D-Bus). On the main thread the two take turns.
fn apply_on_main(app: &AppHandle, sh: &Arc<Shell>) {
    let (app2, sh2) = (app.clone(), sh.clone());
    if let Err(e) = app.run_on_main_thread(move || apply(&app2, &sh2)) {
        tracing::warn!("cannot update the tray: {e}");
    }
}

/// Follows the engine's status and keeps the tray in step.
async fn follow_status(app: AppHandle, sh: Arc<Shell>) {
    let mut status = sh.engine.watch_status();
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    break; // the engine stopped
                }
                // Let the rest of a burst arrive; `watch` keeps only the latest.
                tokio::time::sleep(COALESCE).await;
                status.borrow_and_update();
            }
            _ = tick.tick() => {}
        }
        apply_on_main(&app, &sh);
    }
}

/// Puts the current view on the tray, changing only what differs.
fn apply(app: &AppHandle, sh: &Shell) {
    let report = sh.engine.status();
    let view = tray::tray_view(&report, Utc::now());
    let now = Utc::now();
    let paused_until = sh.notifier.as_ref().and_then(|n| n.pause_state().ends_at(now));
    let mut guard = sh.menu.lock().unwrap();
    let Some(m) = guard.as_mut() else { return };
    if view.icon != m.shown.icon {
        if let Some(tray) = app.tray_by_id(TRAY_ID) {
            match icon(view.icon) {
                Ok(img) => {
                    let _ = tray.set_icon(Some(img));
                }
                Err(e) => tracing::warn!("tray icon: {e}"),
            }
        }
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if view.tooltip != m.shown.tooltip {
            let _ = tray.set_tooltip(Some(&view.tooltip));
        }
    }
    if view.header != m.shown.header {
        let _ = m.header.set_text(&view.header);
    }
    let same_ids = view.providers.len() == m.providers.len()
        && view
            .providers
            .iter()
            .zip(&m.providers)
            .all(|(p, (id, _))| &p.id == id);
    if same_ids {
        for (p, (_, item)) in view.providers.iter().zip(&m.providers) {
            let _ = item.set_text(&p.label);
            if item.is_checked().ok() != Some(p.checked) {
                let _ = item.set_checked(p.checked);
            }
        }
    } else {
        // The config changed the provider list: replace the submenu's items.
        for (_, item) in m.providers.drain(..) {
            let _ = m.providers_menu.remove(&item);
        }
        for p in &view.providers {
            match provider_item(app, p) {
                Ok(item) => {
                    let _ = m.providers_menu.append(&item);
                    m.providers.push((p.id.clone(), item));
                }
                Err(e) => tracing::warn!("tray menu: {e}"),
            }
        }
    }
    if m.auto_switch.is_checked().ok() != Some(view.auto_switch) {
        let _ = m.auto_switch.set_checked(view.auto_switch);
    }
    if m.passive.is_checked().ok() != Some(view.passive) {
        let _ = m.passive.set_checked(view.passive);
    }
    let _ = m.open_status.set_enabled(view.status_url.is_some());
    let _ = m.resume.set_enabled(paused_until.is_some());
    // The state goes on the Resume item: a submenu's own label, once changed,
    // does not reach the panel (libdbusmenu-gtk keeps the first one).
    let resume_label = match paused_until {
        Some(end) => format!(
            "Resume (paused until {})",
            end.with_timezone(&chrono::Local).format("%a %H:%M")
        ),
        None => "Resume".to_string(),
    };
    let _ = m.resume.set_text(resume_label);
    let _ = m.autostart.set_checked(autostart::is_enabled());
    m.shown = view;
}

/// Shows the dashboard, creating its window when there is none.
fn open_dashboard(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let sh = shell(app);
    let no_tray = *sh.no_tray.lock().unwrap();
    let url = match no_tray {
        Some(reason) => format!("{}?tray={}", sh.url, reason.query()),
        None => sh.url.clone(),
    };
    let url = match url.parse() {
        Ok(u) => u,
        Err(e) => return tracing::error!("bad dashboard URL {url}: {e}"),
    };
    let built = WebviewWindowBuilder::new(app, WINDOW, WebviewUrl::External(url))
        .title("Switchboard")
        .inner_size(1100.0, 780.0)
        .min_inner_size(480.0, 400.0)
        .build();
    if let Err(e) = built {
        tracing::error!("cannot open the dashboard window: {e}");
    }
}

/// After the dashboard closed, and unless it was opened again meanwhile, ends
/// WebKit's idle network process so the app's memory returns to about the
/// tray-only level (see `webkit`).
fn release_web_memory(app: AppHandle) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        if app.get_webview_window(WINDOW).is_none() {
            let ended = crate::webkit::end_idle_network_processes();
            tracing::debug!(ended, "dashboard closed: idle WebKit network process ended");
        }
    });
}

fn open_url(url: &str) {
    match std::process::Command::new("xdg-open").arg(url).spawn() {
        // Reap it in the background so no zombie stays.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => tracing::warn!("cannot open {url}: {e}"),
    }
}

/// SIGTERM / Ctrl-C end the app as "Quit" does.
async fn stop_on_signal(app: AppHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("signal: quitting");
    app.exit(0);
}

/// Stops the server and the engine (bounded: quitting must not hang).
fn stop_engine(app: &AppHandle) {
    let Some(sh) = app.try_state::<Arc<Shell>>().map(|s| s.inner().clone()) else {
        return;
    };
    let stop = sh.stop.lock().unwrap().take();
    if let Some(tx) = stop {
        let _ = tx.send(());
    }
    let done = sh.done.lock().unwrap().take();
    if let Some(done) = done {
        let result = sh
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(5), done).await });
        match result {
            Ok(Ok(Ok(()))) => tracing::info!("stopped"),
            Ok(Ok(Err(e))) => tracing::error!("{e:#}"),
            Ok(Err(e)) => tracing::error!("the engine task failed: {e}"),
            Err(_) => tracing::warn!("the engine did not stop within 5 s"),
        }
    }
}
