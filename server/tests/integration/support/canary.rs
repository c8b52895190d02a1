//! Leak-canary mode of the harness. When `A55_LEAK_CANARY_DIR` is set (`make test` sets it), the run
//! keeps everything a leak could end up in: a trace-level log of the whole test process, every byte
//! the console sent to test clients (through a recording proxy in front of each console), and the
//! SQLite files; and it records every client secret and access token in play. `leak_canary.rs`
//! searches the lot afterwards. Without the variable, none of this happens.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, Once};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const DIR_VAR: &str = "A55_LEAK_CANARY_DIR";
/// One JSON object per line: `{"client_id": …, "secret": …}`.
pub const SECRETS_FILE: &str = "canary-secrets.jsonl";
/// One access token per line (the simulators' issued-tokens files and the fault servers' tokens).
pub const TOKENS_FILE: &str = "issued-tokens.txt";
pub const TRACE_LOG: &str = "integration-trace.log";

pub fn dir() -> Option<PathBuf> {
    std::env::var_os(DIR_VAR).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Once per process: the trace-level subscriber writing to the canary directory.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(dir) = dir() else { return };
        for sub in ["", "db", "responses"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(TRACE_LOG)).unwrap();
        // Every crate at trace level (hyper, reqwest, sqlx, tower-sessions included): what a developer
        // debugging the console would switch on.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(Mutex::new(log))
            .try_init();
    });
}

fn append(name: &str, line: &str) {
    if let Some(dir) = dir() {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(name)).unwrap();
        file.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
}

pub fn record_secret(client_id: &str, secret: &str) {
    append(SECRETS_FILE, &serde_json::json!({ "client_id": client_id, "secret": secret }).to_string());
}

pub fn record_token(token: &str) {
    append(TOKENS_FILE, token);
}

/// Where simulators append the tokens they issue, in canary mode.
pub fn tokens_file() -> Option<PathBuf> {
    dir().map(|d| d.join(TOKENS_FILE))
}

/// A fresh database file: kept in the canary directory in canary mode, else in the temp dir.
pub fn database_path() -> PathBuf {
    let name = format!("a55-console-it-{}.db", uuid::Uuid::new_v4());
    match dir() {
        Some(dir) => dir.join("db").join(name),
        None => std::env::temp_dir().join(name),
    }
}

/// In canary mode, a recording TCP proxy in front of `console` (every byte the console sends back is
/// written to a file per connection); otherwise `console` itself.
pub async fn front(console: SocketAddr) -> SocketAddr {
    let Some(dir) = dir() else { return console };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            // One file per connection, so that no other connection's bytes split a response.
            let file = dir.join("responses").join(format!("{}.http", uuid::Uuid::new_v4()));
            let mut record = std::fs::File::create(file).unwrap();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(console).await else { return };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upstream = async {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                };
                let downstream = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = server_read.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        record.write_all(&buf[..n]).unwrap();
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = client_write.shutdown().await;
                };
                tokio::join!(upstream, downstream);
            });
        }
    });
    addr
}
