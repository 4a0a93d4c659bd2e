//! `postwerk`: Postwerk without a window. Shares the data folder with the desktop app.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use postwerk_core::{AppPaths, Core, NewWorkspace, WorkspacePatch};

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
    let paths = AppPaths::resolve(cli.data_dir)?;
    paths.ensure()?;
    let _log = postwerk_core::logging::init(&paths.log_dir(), "warn")?;
    let core = Core::open(paths).await?;
    let result = match cli.command {
        Command::Workspace(cmd) => workspace(&core, cmd).await,
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
            ws.delete(&target.id).await?;
            println!("Deleted workspace \"{}\"", target.name);
        }
    }
    Ok(())
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
