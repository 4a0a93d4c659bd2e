//! `postwerk-fakes`: starts a fake Mastodon and a fake Bluesky on 127.0.0.1, prints one JSON
//! line `{"mastodon":"http://127.0.0.1:P1/","bluesky":"http://127.0.0.1:P2/"}` to stdout and
//! runs until stdin reaches end of file, or SIGTERM/SIGINT arrives. `--ignore-stdin` keeps it
//! running when stdin is closed or /dev/null.
//!
//! Controls live under `/_fake/` on each server (see the crate documentation and README.md).

use std::io::{Read, Write};

use postwerk_fakes::{FakeBluesky, FakeMastodon};

const USAGE: &str = "usage: postwerk-fakes [--ignore-stdin]

Starts a fake Mastodon and a fake Bluesky on 127.0.0.1, prints
{\"mastodon\":\"http://127.0.0.1:P1/\",\"bluesky\":\"http://127.0.0.1:P2/\"} and runs until stdin
reaches end of file (unless --ignore-stdin) or SIGTERM/SIGINT arrives.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let mut watch_stdin = true;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--ignore-stdin" => watch_stdin = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return std::process::ExitCode::SUCCESS;
            }
            other => {
                eprintln!("postwerk-fakes: unknown argument {other:?}\n{USAGE}");
                return std::process::ExitCode::from(2);
            }
        }
    }

    let mastodon = FakeMastodon::start().await;
    let bluesky = FakeBluesky::start().await;
    // Built by hand so the key order is the documented one.
    let line = format!(
        "{{\"mastodon\":{},\"bluesky\":{}}}",
        serde_json::Value::from(mastodon.url().as_str()),
        serde_json::Value::from(bluesky.url().as_str()),
    );
    {
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return std::process::ExitCode::FAILURE;
        }
    }

    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    // Holding the sender keeps the receiver pending when stdin is not watched.
    let _keep_open = if watch_stdin {
        // A plain thread: blocking reads on stdin never hold up the runtime.
        std::thread::spawn(move || {
            let mut sink = [0_u8; 1024];
            let mut stdin = std::io::stdin().lock();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = eof_tx.send(());
        });
        None
    } else {
        Some(eof_tx)
    };

    tokio::select! {
        _ = eof_rx => {}
        () = shutdown_signal() => {}
    }
    drop(mastodon);
    drop(bluesky);
    std::process::ExitCode::SUCCESS
}

#[cfg(unix)]
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
