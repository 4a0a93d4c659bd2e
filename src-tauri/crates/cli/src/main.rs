//! `postwerk`: Postwerk without a window. Shares the data folder with the desktop app.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use postwerk_core::accounts::{Account, ConnectBluesky, StartMastodon};
use postwerk_core::{AppPaths, Core, NewWorkspace, Secret, Workspace, WorkspacePatch};

#[derive(Parser)]
#[command(
    name = "postwerk",
    version,
    about = "Postwerk: social media publishing, inbox and listening, on your own machine"
)]
struct Cli {
    /// Data folder (default: POSTWERK_DATA_DIR, else the OS app-data folder).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Workspaces: one per client or brand, each with its own time zone.
    #[command(subcommand)]
    Workspace(WorkspaceCmd),
    /// Social accounts: connect, list, check, remove.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Check a text against networks' rules: length, limit, ok and the thread split, as JSON.
    Check {
        /// Networks, comma-separated (mastodon, bluesky, x, linkedin, threads, ...).
        #[arg(long, value_delimiter = ',', default_value = "mastodon,bluesky,x")]
        to: Vec<String>,
        /// The Mastodon instance's character limit (default 500).
        #[arg(long, value_name = "N")]
        mastodon_max: Option<u32>,
        /// Content warning (counts toward Mastodon's limit).
        #[arg(long)]
        spoiler: Option<String>,
        text: String,
    },
    /// Publish a post now to one or more accounts.
    Post {
        /// Account id (repeat for several accounts).
        #[arg(long = "account", required = true, value_name = "ID")]
        accounts: Vec<String>,
        /// An image to attach (repeat; each may be followed by --alt).
        #[arg(long = "image", value_name = "PATH")]
        images: Vec<PathBuf>,
        /// Alt text for the image at the same position.
        #[arg(long = "alt", value_name = "TEXT")]
        alts: Vec<String>,
        /// Content warning (Mastodon).
        #[arg(long)]
        spoiler: Option<String>,
        /// Publish at this wall-clock time in the workspace's time zone ("YYYY-MM-DD HH:MM")
        /// instead of now; `postwerk daemon` or the app sends it.
        #[arg(long, value_name = "WHEN", conflicts_with = "queue")]
        at: Option<String>,
        /// Put it into each account's next free queue time (see `postwerk queue slots`).
        #[arg(long)]
        queue: bool,
        /// Publish it again every N days after it went out (weeks: 7, 14, ...).
        #[arg(long, value_name = "N", conflicts_with = "evergreen_days")]
        repeat_days: Option<u32>,
        /// Evergreen: back into the queue at least N days after it went out.
        #[arg(long, value_name = "N")]
        evergreen_days: Option<u32>,
        #[arg(long)]
        json: bool,
        /// The post's text.
        text: String,
    },
    /// Scheduled posts.
    #[command(subcommand)]
    Queue(QueueCmd),
    /// Run the scheduler without a window: publishes due posts until stopped (Ctrl+C).
    Daemon {
        /// Publish what is due now, settle what a crash left open, and exit.
        #[arg(long)]
        once: bool,
    },
    /// Show the data folder, log folder and whether the OS keychain works.
    Doctor {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum WorkspaceCmd {
    /// List workspaces.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a workspace.
    Add {
        name: String,
        /// IANA time zone, for example Europe/Berlin (default: the system's).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// Colour as #rrggbb.
        #[arg(long)]
        color: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rename a workspace (by id or name); optionally change its time zone or colour.
    Rename {
        workspace: String,
        new_name: String,
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        #[arg(long)]
        color: Option<String>,
    },
    /// Delete a workspace and ALL its data (accounts, posts, inbox).
    Rm {
        workspace: String,
        /// Do not ask; needed when standard input is not a terminal.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum QueueCmd {
    /// List scheduled posts, soonest first.
    List {
        #[arg(long, short)]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show or set an account's weekly queue times, e.g. --set "mon 09:00, wed 12:30".
    Slots {
        #[arg(long, value_name = "ID")]
        account: String,
        #[arg(long, value_name = "TIMES")]
        set: Option<String>,
    },
    /// Move a scheduled post (its target id from `queue list --json`) to another time.
    Move { target: String, when: String },
    /// Keep a scheduled post without sending it.
    Pause { target: String },
    /// Put a paused post back on the schedule.
    Resume { target: String },
    /// Do not send a scheduled post.
    Cancel { target: String },
    /// Send a missed, paused or failed scheduled post now.
    Publish { target: String },
}

#[derive(Subcommand)]
enum AccountCmd {
    /// List accounts with their health (ok, expiring, needs_reconnect).
    List {
        /// Workspace name or id (default: all workspaces).
        #[arg(long, short)]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Connect an account.
    #[command(subcommand)]
    Add(AddCmd),
    /// Ask the networks whether the sign-ins still work.
    Check {
        /// Workspace name or id (default: the current one).
        #[arg(long, short)]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove an account: sign out on the network and delete its secrets.
    Rm { id: String },
}

#[derive(Subcommand)]
enum AddCmd {
    /// Bluesky with an app password (Settings > Privacy and security > App passwords).
    Bluesky {
        /// Handle (ada.bsky.social), email or DID.
        #[arg(long)]
        identifier: String,
        /// Read the app password from standard input (it never goes on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Hosting provider URL (default: found from the handle).
        #[arg(long, value_name = "URL")]
        service: Option<String>,
        #[arg(long, short)]
        workspace: Option<String>,
        /// Reconnect this account instead of adding one.
        #[arg(long, value_name = "ID")]
        reconnect: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Mastodon: prints the sign-in page, opens the browser and waits for it to come back.
    Mastodon {
        /// Your server: mastodon.social, @you@server or a URL.
        #[arg(long)]
        instance: String,
        #[arg(long, short)]
        workspace: Option<String>,
        #[arg(long, value_name = "ID")]
        reconnect: Option<String>,
        /// Only print the sign-in page; do not open a browser.
        #[arg(long)]
        no_browser: bool,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Checking a text needs no data folder.
    if let Command::Check {
        to,
        mastodon_max,
        spoiler,
        text,
    } = cli.command
    {
        return check(to, mastodon_max, spoiler, text);
    }
    let paths = AppPaths::resolve(cli.data_dir)?;
    paths.ensure()?;
    // The daemon keeps a record of what it published; one-shot commands only of problems.
    let level = if matches!(cli.command, Command::Daemon { .. }) {
        "info"
    } else {
        "warn"
    };
    let _log = postwerk_core::logging::init(&paths.log_dir(), level)?;
    let core = Core::open(paths).await?;
    let result = match cli.command {
        Command::Workspace(cmd) => workspace(&core, cmd).await,
        Command::Account(cmd) => account(&core, cmd).await,
        Command::Check { .. } => unreachable!("handled above"),
        Command::Post {
            accounts,
            images,
            alts,
            spoiler,
            at,
            queue,
            repeat_days,
            evergreen_days,
            json,
            text,
        } => {
            let when = match (at, queue) {
                (Some(at), _) => When::At(at),
                (None, true) => When::Queue,
                (None, false) => When::Now,
            };
            let repeat = postwerk_core::planner::Repeat {
                every_days: repeat_days,
                evergreen_gap_days: evergreen_days,
            };
            post(
                &core, accounts, images, alts, spoiler, when, repeat, text, json,
            )
            .await
        }
        Command::Queue(QueueCmd::List { workspace, json }) => queue(&core, workspace, json).await,
        Command::Queue(cmd) => queue_action(&core, cmd).await,
        Command::Daemon { once } => daemon(&core, once).await,
        Command::Doctor { json } => doctor(&core, json).await,
    };
    core.close().await;
    result
}

async fn workspace(core: &Core, cmd: WorkspaceCmd) -> anyhow::Result<()> {
    let ws = core.workspaces();
    match cmd {
        WorkspaceCmd::List { json } => {
            let list = ws.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!(
                    "No workspaces yet. Create one with: postwerk workspace add NAME --tz ZONE"
                );
            } else {
                let width = list
                    .iter()
                    .map(|w| w.name.chars().count())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                println!(
                    "{:<36}  {:<width$}  {:<30}  COLOUR",
                    "ID", "NAME", "TIME ZONE"
                );
                for w in list {
                    println!(
                        "{:<36}  {:<width$}  {:<30}  {}",
                        w.id, w.name, w.time_zone, w.color
                    );
                }
            }
        }
        WorkspaceCmd::Add {
            name,
            tz,
            color,
            json,
        } => {
            let w = ws
                .create(NewWorkspace {
                    name,
                    time_zone: tz,
                    color,
                })
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&w)?);
            } else {
                println!(
                    "Created workspace \"{}\" ({}) in {}",
                    w.name, w.id, w.time_zone
                );
            }
        }
        WorkspaceCmd::Rename {
            workspace,
            new_name,
            tz,
            color,
        } => {
            let target = ws.find(&workspace).await?;
            let w = ws
                .update(
                    &target.id,
                    WorkspacePatch {
                        name: Some(new_name),
                        time_zone: tz,
                        color,
                    },
                )
                .await?;
            println!(
                "Workspace {} is now \"{}\" in {}",
                w.id, w.name, w.time_zone
            );
        }
        WorkspaceCmd::Rm { workspace, yes } => {
            let target = ws.find(&workspace).await?;
            if !yes {
                let stdin = std::io::stdin();
                if !stdin.is_terminal() {
                    anyhow::bail!(
                        "deleting \"{}\" removes all its data; pass --yes to confirm without a terminal",
                        target.name
                    );
                }
                print!(
                    "Delete workspace \"{}\" and all its accounts, posts and inbox? Type its name to confirm: ",
                    target.name
                );
                std::io::stdout().flush()?;
                let mut line = String::new();
                stdin.lock().read_line(&mut line)?;
                if line.trim() != target.name {
                    anyhow::bail!("the name did not match; nothing was deleted");
                }
            }
            core.delete_workspace(&target.id).await?;
            println!("Deleted workspace \"{}\"", target.name);
        }
    }
    Ok(())
}

/// The workspace named on the command line, else the current one, else the only one.
async fn pick_workspace(core: &Core, arg: Option<&str>) -> anyhow::Result<Workspace> {
    if let Some(w) = arg {
        return Ok(core.workspaces().find(w).await?);
    }
    let settings = core.settings().get().await?;
    let all = core.workspaces().list().await?;
    if let Some(current) = settings.current_workspace_id
        && let Some(w) = all.iter().find(|w| w.id == current)
    {
        return Ok(w.clone());
    }
    match all.as_slice() {
        [only] => Ok(only.clone()),
        [] => anyhow::bail!(
            "there is no workspace yet; create one with `postwerk workspace add NAME`"
        ),
        _ => anyhow::bail!("there are several workspaces; say which with --workspace NAME"),
    }
}

fn print_accounts(
    accounts: &[Account],
    workspaces: &[Workspace],
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(accounts)?);
        return Ok(());
    }
    if accounts.is_empty() {
        println!("No accounts. Connect one with `postwerk account add bluesky|mastodon ...`.");
        return Ok(());
    }
    println!(
        "{:<36}  {:<9}  {:<32}  {:<16}  {:<15}",
        "ID", "NETWORK", "HANDLE", "WORKSPACE", "HEALTH"
    );
    for a in accounts {
        let ws = workspaces
            .iter()
            .find(|w| w.id == a.workspace_id)
            .map(|w| w.name.as_str())
            .unwrap_or("?");
        println!(
            "{:<36}  {:<9}  {:<32}  {:<16}  {}",
            a.id,
            a.network.display_name(),
            a.handle,
            ws,
            a.health.as_str()
        );
        if let Some(detail) = &a.health_detail {
            println!("{:<36}  {detail}", "");
        }
    }
    Ok(())
}

fn print_account(a: &Account, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(a)?);
    } else {
        println!(
            "Connected {} ({}) on {} as account {}",
            a.handle,
            a.display_name,
            a.network.display_name(),
            a.id
        );
    }
    Ok(())
}

async fn account(core: &Core, cmd: AccountCmd) -> anyhow::Result<()> {
    let accounts = core.accounts();
    let workspaces = core.workspaces().list().await?;
    match cmd {
        AccountCmd::List { workspace, json } => {
            let list = match workspace {
                Some(w) => accounts.list(&core.workspaces().find(&w).await?.id).await?,
                None => accounts.list_all().await?,
            };
            print_accounts(&list, &workspaces, json)?;
        }
        AccountCmd::Check { workspace, json } => {
            let ws = pick_workspace(core, workspace.as_deref()).await?;
            let list = accounts.check_workspace(&ws.id).await?;
            print_accounts(&list, &workspaces, json)?;
        }
        AccountCmd::Rm { id } => {
            let account = accounts.get(&id).await?;
            let removal = accounts.remove(&id).await?;
            match removal.detail {
                None => println!(
                    "Removed {} and signed out on {}",
                    account.handle,
                    account.network.display_name()
                ),
                Some(detail) => println!(
                    "Removed {} from Postwerk, but {} could not be told: {detail}",
                    account.handle,
                    account.network.display_name()
                ),
            }
        }
        AccountCmd::Add(AddCmd::Bluesky {
            identifier,
            password_stdin: _,
            service,
            workspace,
            reconnect,
            json,
        }) => {
            let ws = pick_workspace(core, workspace.as_deref()).await?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = Secret::new(line.trim_end_matches(['\r', '\n']).to_string());
            let account = accounts
                .connect_bluesky(ConnectBluesky {
                    workspace_id: ws.id,
                    identifier,
                    password,
                    service,
                    reconnect_id: reconnect,
                })
                .await?;
            print_account(&account, json)?;
        }
        AccountCmd::Add(AddCmd::Mastodon {
            instance,
            workspace,
            reconnect,
            no_browser,
            json,
        }) => {
            let ws = pick_workspace(core, workspace.as_deref()).await?;
            let pending = accounts
                .start_mastodon(StartMastodon {
                    workspace_id: ws.id,
                    instance,
                    reconnect_id: reconnect,
                })
                .await?;
            eprintln!(
                "Sign in on {} to connect it:\n\n  {}\n",
                pending.instance, pending.authorize_url
            );
            if !no_browser && let Err(e) = open::that_detached(&pending.authorize_url) {
                eprintln!("(no browser opened: {e}; open the page above yourself)");
            }
            eprintln!("Waiting for the browser...");
            let account = accounts.finish_mastodon(&pending.flow_id).await?;
            print_account(&account, json)?;
        }
    }
    Ok(())
}

fn check(
    to: Vec<String>,
    mastodon_max: Option<u32>,
    spoiler: Option<String>,
    text: String,
) -> anyhow::Result<()> {
    use postwerk_core::networks::NetworkKind;
    use postwerk_core::rules::{Limits, check_text, split_thread};
    let mut limits = Limits::default();
    if let Some(max) = mastodon_max {
        limits.mastodon_max_characters = max;
    }
    let spoiler = spoiler.unwrap_or_default();
    let mut out = Vec::new();
    for name in to {
        let name = name.trim().to_ascii_lowercase();
        let network: NetworkKind = serde_json::from_value(serde_json::Value::String(name.clone()))
            .map_err(|_| {
                anyhow::anyhow!(
                    "unknown network \"{name}\" (mastodon, bluesky, x, linkedin, threads, ...)"
                )
            })?;
        let verdict = check_text(network, &text, &spoiler, &limits);
        let parts = split_thread(network, &text, &limits);
        out.push(serde_json::json!({
            "network": network,
            "length": verdict.length,
            "limit": verdict.limit,
            "ok": verdict.ok,
            "overBy": verdict.over_by,
            "unit": verdict.unit,
            "bytes": verdict.bytes,
            "byteLimit": verdict.byte_limit,
            "message": verdict.message,
            "thread": parts,
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// When `postwerk post` sends.
enum When {
    Now,
    At(String),
    Queue,
}

#[allow(clippy::too_many_arguments)]
async fn post(
    core: &Core,
    account_ids: Vec<String>,
    images: Vec<PathBuf>,
    alts: Vec<String>,
    spoiler: Option<String>,
    when: When,
    repeat: postwerk_core::planner::Repeat,
    text: String,
    json: bool,
) -> anyhow::Result<()> {
    use postwerk_core::posts::{DraftInput, DraftMediaInput, DraftTarget};
    use postwerk_core::publish::TargetState;
    let mut workspace = None;
    for id in &account_ids {
        let account = core.accounts().get(id).await?;
        match &workspace {
            None => workspace = Some(account.workspace_id),
            Some(w) if *w != account.workspace_id => {
                anyhow::bail!(
                    "the accounts belong to different workspaces; post to one workspace at a time"
                )
            }
            Some(_) => {}
        }
    }
    let workspace_id = workspace.ok_or_else(|| anyhow::anyhow!("name at least one --account"))?;
    if alts.len() > images.len() {
        anyhow::bail!("{} --alt texts for {} images", alts.len(), images.len());
    }
    let mut media = Vec::new();
    for (i, path) in images.iter().enumerate() {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let info = core.media().import(&name, bytes).await?;
        media.push(DraftMediaInput {
            media_id: info.id,
            alt: alts.get(i).cloned().unwrap_or_default(),
        });
    }
    let draft = core
        .posts()
        .save_draft(DraftInput {
            id: None,
            workspace_id,
            text,
            spoiler: spoiler.unwrap_or_default(),
            media,
            targets: account_ids
                .iter()
                .map(|id| DraftTarget {
                    account_id: id.clone(),
                    text_override: None,
                    thread_parts: None,
                })
                .collect(),
        })
        .await?;
    if !matches!(when, When::Now) {
        let scheduled = async {
            if repeat.every_days.is_some() || repeat.evergreen_gap_days.is_some() {
                core.publisher().set_repeat(&draft.id, repeat).await?;
            }
            match &when {
                When::At(at) => core.schedule_post(&draft.id, at).await,
                _ => core.add_to_queue(&draft.id).await,
            }
        }
        .await;
        if let Err(e) = scheduled {
            // Nothing is scheduled: do not leave a stray draft behind.
            let _ = core.posts().discard_draft(&draft.id).await;
            return Err(e.into());
        }
        let items: Vec<_> = core
            .publisher()
            .queue(None)
            .await?
            .into_iter()
            .filter(|i| i.post_id == draft.id)
            .collect();
        if json {
            println!("{}", serde_json::to_string_pretty(&items)?);
        } else {
            for i in &items {
                println!(
                    "{} ({}): scheduled for {} {}{}",
                    i.handle,
                    i.network.display_name(),
                    i.local_time.as_deref().unwrap_or("?"),
                    i.scheduled_zone.as_deref().unwrap_or(""),
                    if i.hand_off {
                        " (Mastodon will hold it: it goes out with the computer off)"
                    } else {
                        ""
                    }
                );
            }
            println!(
                "Posts Mastodon does not hold go out while the app or `postwerk daemon` runs."
            );
        }
        return Ok(());
    }
    let outcomes = core.publisher().publish_now(&draft.id).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        for o in &outcomes {
            match (&o.url, &o.error) {
                (Some(url), _) if o.state == TargetState::Published => {
                    println!(
                        "{} ({}): published {url}",
                        o.handle,
                        o.network.display_name()
                    )
                }
                (_, Some(e)) => {
                    println!("{} ({}): failed: {e}", o.handle, o.network.display_name())
                }
                _ => println!("{} ({}): {:?}", o.handle, o.network.display_name(), o.state),
            }
        }
    }
    if outcomes.iter().any(|o| o.state != TargetState::Published) {
        anyhow::bail!("not every account published; retry with the app (Retry failed)");
    }
    Ok(())
}

async fn queue(core: &Core, workspace: Option<String>, json: bool) -> anyhow::Result<()> {
    let ws = match workspace {
        Some(w) => Some(core.workspaces().find(&w).await?.id),
        None => None,
    };
    let items = core.publisher().queue(ws.as_deref()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if items.is_empty() {
        println!("Nothing is scheduled.");
    }
    for i in &items {
        let held = match i.held_by {
            postwerk_core::publish::HeldBy::Network => "held by the network",
            postwerk_core::publish::HeldBy::Postwerk => "needs Postwerk running",
            postwerk_core::publish::HeldBy::Nobody => "",
        };
        println!(
            "{} {}  {:<28} {:<15} {:<22} {}",
            i.local_time.as_deref().unwrap_or("?"),
            i.scheduled_zone.as_deref().unwrap_or(""),
            i.handle,
            i.state.as_str(),
            held,
            i.text.lines().next().unwrap_or("")
        );
    }
    Ok(())
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Reads "mon 09:00, wed 12:30" into queue slots.
fn parse_slots(input: &str) -> anyhow::Result<Vec<postwerk_core::planner::QueueSlot>> {
    let mut slots = Vec::new();
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (day, time) = part.split_once(char::is_whitespace).ok_or_else(|| {
            anyhow::anyhow!("\"{part}\": write a day and a time, like \"mon 09:00\"")
        })?;
        let day = day.trim().to_lowercase();
        let weekday = WEEKDAYS
            .iter()
            .position(|d| day.starts_with(d))
            .ok_or_else(|| {
                anyhow::anyhow!("\"{day}\" is not a weekday (mon, tue, wed, thu, fri, sat, sun)")
            })?;
        let t = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M")
            .map_err(|_| anyhow::anyhow!("\"{}\" is not a time; write HH:MM", time.trim()))?;
        use chrono::Timelike;
        slots.push(postwerk_core::planner::QueueSlot {
            weekday: u8::try_from(weekday)?,
            minute: u16::try_from(t.hour() * 60 + t.minute())?,
        });
    }
    Ok(slots)
}

async fn queue_action(core: &Core, cmd: QueueCmd) -> anyhow::Result<()> {
    let publisher = core.publisher();
    let item = match cmd {
        QueueCmd::List { .. } => unreachable!("handled by queue()"),
        QueueCmd::Slots { account, set } => {
            let slots = match set {
                Some(set) => {
                    publisher
                        .set_queue_slots(&account, &parse_slots(&set)?)
                        .await?
                }
                None => publisher.queue_slots(&account).await?,
            };
            if slots.is_empty() {
                println!("No queue times. Set some with --set \"mon 09:00, wed 12:30\".");
            }
            for s in slots {
                println!(
                    "{} {:02}:{:02}",
                    WEEKDAYS[usize::from(s.weekday.min(6))],
                    s.minute / 60,
                    s.minute % 60
                );
            }
            return Ok(());
        }
        QueueCmd::Move { target, when } => core.reschedule_target(&target, &when).await?,
        QueueCmd::Pause { target } => publisher.pause_target(&target).await?,
        QueueCmd::Resume { target } => publisher.resume_target(&target).await?,
        QueueCmd::Cancel { target } => publisher.cancel_target(&target).await?,
        QueueCmd::Publish { target } => {
            let outcome = core.publish_target_now(&target).await?;
            match (&outcome.url, &outcome.error) {
                (Some(url), _) => println!("{}: published {url}", outcome.handle),
                (_, Some(e)) => anyhow::bail!("{}: {e}", outcome.handle),
                _ => println!("{}: {}", outcome.handle, outcome.state.as_str()),
            }
            return Ok(());
        }
    };
    println!(
        "{}: {} at {} {}",
        item.handle,
        item.state.as_str(),
        item.local_time.as_deref().unwrap_or("?"),
        item.scheduled_zone.as_deref().unwrap_or("")
    );
    Ok(())
}

async fn daemon(core: &Core, once: bool) -> anyhow::Result<()> {
    if once {
        let _lock = postwerk_core::paths::DataLock::acquire(core.paths(), "postwerk daemon")?;
        let settled = core.publisher().recover_after_crash().await?;
        if settled > 0 {
            eprintln!("settled {settled} posts a crash had left unconfirmed");
        }
        let n = core
            .publisher()
            .run_due(chrono::Utc::now(), postwerk_core::scheduler::LEASE)
            .await?;
        eprintln!("published {n} due posts");
        let held = core.publisher().reconcile(chrono::Utc::now()).await?;
        if held > 0 {
            eprintln!("{held} posts held by Mastodon went out");
        }
        return Ok(());
    }
    // Say clearly when another process owns the folder, before looping.
    drop(postwerk_core::paths::DataLock::acquire(
        core.paths(),
        "postwerk daemon",
    )?);
    eprintln!(
        "postwerk daemon: publishing scheduled posts of {} (Ctrl+C to stop)",
        core.paths().data_dir().display()
    );
    tokio::select! {
        _ = postwerk_core::scheduler::run(core.clone(), "postwerk daemon") => Ok(()),
        _ = tokio::signal::ctrl_c() => {
            eprintln!("stopping");
            Ok(())
        }
    }
}

async fn doctor(core: &Core, json: bool) -> anyhow::Result<()> {
    let info = core.app_info();
    let keychain = postwerk_core::keychain_status().await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "app": info, "keychain": keychain })
            )?
        );
    } else {
        println!("Postwerk {}", info.version);
        println!("data folder: {}", info.data_dir);
        println!("log folder:  {}", info.log_dir);
        println!("time zone:   {}", info.system_time_zone);
        match (keychain.available, keychain.backend, keychain.problem) {
            (true, Some(backend), _) => println!("keychain:    ok ({backend})"),
            (_, _, problem) => println!(
                "keychain:    NOT AVAILABLE: {}",
                problem.unwrap_or_default()
            ),
        }
    }
    Ok(())
}
