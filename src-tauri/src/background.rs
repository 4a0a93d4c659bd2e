//! Running in the background: the tray icon and its menu, closing the window to the tray,
//! start at login, desktop notifications and a clean exit on SIGTERM. Glue only: the texts,
//! the "Next post" line and the settings come from `postwerk_core::background` and the core.

use std::sync::OnceLock;
use std::time::Duration;

use postwerk_core::Core;
use postwerk_core::background::{Notice, TrayStatus};
use postwerk_core::publish::PublishEvent;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, WindowEvent};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_notification::NotificationExt as _;
use tokio::sync::broadcast::error::RecvError;

pub use postwerk_core::background::HIDDEN_ARG;

const MAIN: &str = "main";
const OPEN: &str = "tray-open";
const NEXT: &str = "tray-next";
const PAUSE: &str = "tray-pause";
const QUIT: &str = "tray-quit";

/// The tray labels are refreshed on every scheduler event and at least this often (so "today"
/// becomes "tomorrow" and an overdue post reads "due now").
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// Notification-worthy events arriving within this time are shown together (or summed up).
const BURST: Duration = Duration::from_millis(1500);
/// Started at login, the panel may come up after Postwerk: wait this long for a tray host
/// before showing the window instead.
const WAIT_FOR_TRAY_AT_LOGIN: Duration = Duration::from_secs(20);

/// Managed state: the tray, once it exists. Without one, closing the window quits.
#[derive(Default)]
pub struct Background {
    tray: OnceLock<Tray>,
}

struct Tray {
    icon: TrayIcon,
    open: MenuItem<tauri::Wry>,
    next: MenuItem<tauri::Wry>,
    pause: CheckMenuItem<tauri::Wry>,
    quit: MenuItem<tauri::Wry>,
}

impl Tray {
    fn show(&self, status: &TrayStatus) -> tauri::Result<()> {
        let labels = &status.labels;
        self.open.set_text(&labels.open)?;
        self.next.set_text(&labels.next_post)?;
        self.pause.set_text(&labels.pause)?;
        self.pause.set_checked(status.paused)?;
        self.quit.set_text(&labels.quit)?;
        self.icon.set_tooltip(Some(&labels.tooltip))
    }
}

/// Shows, unminimises and focuses the main window.
pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Whether Postwerk was started to sit in the tray (start at login).
pub fn started_hidden() -> bool {
    std::env::args().any(|arg| arg == HIDDEN_ARG)
}

/// Starts the background part: the window (unless started hidden), the tray when the desktop
/// has a tray host, and the task that keeps the tray, start at login and notifications in
/// step with the scheduler.
/// Desktop notifications for inbox items a rule asked to be told about.
pub fn follow_inbox(app: &AppHandle, core: &Core) {
    let mut events = core.inbox().subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(postwerk_core::inbox::InboxEvent::Notify {
                    rule, author, text, ..
                }) => notify(
                    &app,
                    &Notice {
                        title: format!("{author} ({rule})"),
                        body: text,
                    },
                ),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

pub fn start(app: &AppHandle, core: Core, hidden: bool) {
    if !hidden {
        show_main_window(app);
    }
    // Subscribe now, so nothing published while the tray is set up is missed.
    let events = core.publisher().subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let wait = if hidden {
            WAIT_FOR_TRAY_AT_LOGIN
        } else {
            Duration::ZERO
        };
        if tray_host::wait_for(wait).await {
            match core
                .tray_status()
                .await
                .as_ref()
                .map_err(ToString::to_string)
                .and_then(|s| build_tray(&app, s).map_err(|e| e.to_string()))
            {
                Ok(tray) => {
                    let _ = app.state::<Background>().tray.set(tray);
                    tracing::info!("tray icon shown; closing the window keeps Postwerk running");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot show a tray icon; closing the window quits Postwerk")
                }
            }
        } else {
            tracing::warn!(
                "the desktop shows no tray icons (no StatusNotifier host, no XEmbed tray); closing the window quits Postwerk"
            );
        }
        if hidden && app.state::<Background>().tray.get().is_none() {
            // Never run invisibly without a way back to the window.
            show_main_window(&app);
        }
        sync_autostart(&app, &core, true).await;
        follow_scheduler(app, core, events).await;
    });
}

fn build_tray(app: &AppHandle, status: &TrayStatus) -> tauri::Result<Tray> {
    let labels = &status.labels;
    let open = MenuItem::with_id(app, OPEN, &labels.open, true, None::<&str>)?;
    let next = MenuItem::with_id(app, NEXT, &labels.next_post, false, None::<&str>)?;
    let pause =
        CheckMenuItem::with_id(app, PAUSE, &labels.pause, true, status.paused, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT, &labels.quit, true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &next,
            &PredefinedMenuItem::separator(app)?,
            &pause,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("postwerk")
        .tooltip(&labels.tooltip)
        .menu(&menu)
        // Windows and macOS: a left click opens the window, a right click the menu. (Linux
        // tray hosts always show the menu; "Open Postwerk" is its first item.)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    Ok(Tray {
        icon,
        open,
        next,
        pause,
        quit,
    })
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        OPEN => show_main_window(app),
        QUIT => {
            tracing::info!("quit from the tray menu");
            app.exit(0);
        }
        PAUSE => {
            let background = app.state::<Background>();
            let Some(tray) = background.tray.get() else {
                return;
            };
            // The menu toggled the check mark already; the setting follows it.
            let paused = tray.pause.is_checked().unwrap_or(false);
            let Ok(core) = app.state::<crate::AppState>().core().cloned() else {
                return;
            };
            tauri::async_runtime::spawn(async move {
                match core.set_paused(paused).await {
                    Ok(_) => tracing::info!(paused, "publishing paused or resumed from the tray"),
                    // The refresh after the next event puts the check mark back.
                    Err(e) => tracing::error!(error = %e, "cannot pause or resume publishing"),
                }
            });
        }
        _ => {}
    }
}

/// Closing the main window hides it while a tray icon keeps Postwerk reachable; without a
/// tray the window closes and Postwerk quits.
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    if window.label() != MAIN || app.state::<Background>().tray.get().is_none() {
        return;
    }
    api.prevent_close();
    if let Err(e) = window.hide() {
        tracing::warn!(error = %e, "cannot hide the window");
    }
    tracing::info!("window closed; Postwerk keeps running in the tray");
    let Ok(core) = app.state::<crate::AppState>().core().cloned() else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match core.kept_in_tray_notice_once().await {
            Ok(Some(notice)) => notify(&app, &notice),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read whether the tray was explained"),
        }
    });
}

/// Keeps the tray and start at login in step with the schedule and the settings, and shows
/// notifications for failed, missed and held posts, until the scheduler's channel closes.
async fn follow_scheduler(
    app: AppHandle,
    core: Core,
    mut events: tokio::sync::broadcast::Receiver<PublishEvent>,
) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut burst: Vec<PublishEvent> = Vec::new();
    let mut flush_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            received = events.recv() => {
                let mut next = Some(received);
                // Take everything queued, then refresh once.
                while let Some(received) = next.take() {
                    match received {
                        Ok(event) => {
                            if postwerk_core::background::needs_notice(&event) {
                                burst.push(event);
                                flush_at.get_or_insert_with(|| tokio::time::Instant::now() + BURST);
                            }
                        }
                        Err(RecvError::Lagged(n)) => tracing::debug!(missed = n, "tray lagged behind the scheduler"),
                        Err(RecvError::Closed) => return,
                    }
                    next = match events.try_recv() {
                        Ok(event) => Some(Ok(event)),
                        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
                        Err(_) => None,
                    };
                }
                refresh_tray(&app, &core).await;
                sync_autostart(&app, &core, false).await;
            }
            _ = tick.tick() => refresh_tray(&app, &core).await,
            () = sleep_until(flush_at) => {
                flush_at = None;
                match core.notices(&std::mem::take(&mut burst)).await {
                    Ok(notices) => notices.iter().for_each(|n| notify(&app, n)),
                    Err(e) => tracing::warn!(error = %e, "cannot prepare notifications"),
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn refresh_tray(app: &AppHandle, core: &Core) {
    let background = app.state::<Background>();
    let Some(tray) = background.tray.get() else {
        return;
    };
    match core.tray_status().await {
        Ok(status) => {
            if let Err(e) = tray.show(&status) {
                tracing::warn!(error = %e, "cannot update the tray menu");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read what the tray shows"),
    }
}

/// Registers or removes the login item to match `Scheduling.start_at_login`. At start-up an
/// enabled entry is written again, so it points at this executable after an update or a move.
async fn sync_autostart(app: &AppHandle, core: &Core, at_start: bool) {
    let wanted = match core.settings().scheduling().await {
        Ok(scheduling) => scheduling.start_at_login,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the start-at-login setting");
            return;
        }
    };
    let autostart = app.autolaunch();
    let enabled = autostart.is_enabled().unwrap_or(false);
    let result = match (wanted, enabled) {
        (true, false) => autostart.enable(),
        (true, true) if at_start => autostart.enable(),
        (false, true) => autostart.disable(),
        _ => return,
    };
    match result {
        Ok(()) => tracing::info!(start_at_login = wanted, "start at login updated"),
        Err(e) => tracing::warn!(error = %e, "cannot change start at login"),
    }
}

fn notify(app: &AppHandle, notice: &Notice) {
    if let Err(e) = app
        .notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .show()
    {
        tracing::warn!(error = %e, "cannot show a notification");
    }
}

/// SIGTERM (a session manager, `kill`), SIGINT (Ctrl+C in a terminal) and SIGHUP quit the
/// way "Quit Postwerk" does: through `RunEvent::Exit`, which closes the database.
pub fn quit_on_signals(app: &AppHandle) {
    #[cfg(unix)]
    {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::hangup()),
            ) else {
                tracing::warn!("cannot listen for SIGTERM; it will stop Postwerk abruptly");
                return;
            };
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
                _ = hup.recv() => "SIGHUP",
            };
            tracing::info!(signal = name, "quitting");
            app.exit(0);
        });
    }
    #[cfg(not(unix))]
    let _ = app;
}

/// Whether the desktop can show a tray icon.
mod tray_host {
    use std::time::Duration;

    /// Looks for a tray host, for up to `wait` (once when `wait` is zero).
    pub async fn wait_for(wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if available().await {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    #[cfg(not(target_os = "linux"))]
    async fn available() -> bool {
        true
    }

    /// Linux has no tray of its own: the icon (libayatana-appindicator) shows up when a panel
    /// runs a StatusNotifier host, or else falls back to an XEmbed tray on X11.
    #[cfg(target_os = "linux")]
    async fn available() -> bool {
        if status_notifier_host().await {
            return true;
        }
        if std::env::var_os("WAYLAND_DISPLAY").is_some() || std::env::var_os("DISPLAY").is_none() {
            return false;
        }
        tokio::task::spawn_blocking(xembed_tray)
            .await
            .unwrap_or(false)
    }

    #[cfg(target_os = "linux")]
    async fn status_notifier_host() -> bool {
        async fn ask() -> zbus::Result<bool> {
            let conn = zbus::Connection::session().await?;
            let watcher = zbus::proxy::Builder::<zbus::Proxy<'_>>::new(&conn)
                .destination("org.kde.StatusNotifierWatcher")?
                .path("/StatusNotifierWatcher")?
                .interface("org.kde.StatusNotifierWatcher")?
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await?;
            watcher
                .get_property::<bool>("IsStatusNotifierHostRegistered")
                .await
        }
        match tokio::time::timeout(Duration::from_secs(2), ask()).await {
            Ok(Ok(registered)) => registered,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "no StatusNotifier host");
                false
            }
            Err(_) => false,
        }
    }

    /// An XEmbed system tray owns the `_NET_SYSTEM_TRAY_S<screen>` selection.
    #[cfg(target_os = "linux")]
    fn xembed_tray() -> bool {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::ConnectionExt as _;
        let ask = || -> Result<bool, Box<dyn std::error::Error>> {
            let (conn, screen) = x11rb::connect(None)?;
            let name = format!("_NET_SYSTEM_TRAY_S{screen}");
            let atom = conn.intern_atom(true, name.as_bytes())?.reply()?.atom;
            if atom == x11rb::NONE {
                return Ok(false);
            }
            let owner = conn.get_selection_owner(atom)?.reply()?.owner;
            conn.flush()?;
            Ok(owner != x11rb::NONE)
        };
        ask().unwrap_or_else(|e| {
            tracing::debug!(error = %e, "cannot ask X11 for a system tray");
            false
        })
    }
}
