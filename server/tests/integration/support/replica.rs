//! Replicas as real processes: the `a55-console` binary started with a TOML file, sharing one
//! SQLite file and one Redis with its siblings, stopped on drop. Its log goes to the leak canary
//! directory in canary mode (so the scan covers it), else to the temp dir.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::postgres::PostgresServer;
use super::redis::{free_port, RedisServer};

const PASSWORD_VAR: &str = "A55_IT_REDIS_PASSWORD";
const VAULT_KEY_VAR: &str = "A55_IT_VAULT_KEY";
const SIMULATOR_SECRET_VAR: &str = "A55_IT_SIMULATOR_SECRET";

pub struct Replica {
    child: Child,
    pub base: String,
    pub log: PathBuf,
    config_path: PathBuf,
}

/// The configuration every replica of one deployment shares: one database file, one Redis, one
/// key prefix, the same staff accounts.
pub fn shared_config(redis: &RedisServer, database: &Path, users_toml: &str) -> String {
    config_for(&redis.url(), database, users_toml)
}

/// `shared_config` with another Redis URL (e.g. `rediss://` on the TLS port).
pub fn config_for(redis_url: &str, database: &Path, users_toml: &str) -> String {
    let storage = format!("[storage]\ndatabase_path = {:?}\n", database.display().to_string());
    with_storage(&storage, redis_url, users_toml)
}

/// `shared_config` on one PostgreSQL database instead of a SQLite file: its password is in a file
/// of its own (0600), named by `database_password_file`, never in the TOML.
pub fn postgres_config(redis: &RedisServer, pg: &PostgresServer, database: &str, users_toml: &str) -> String {
    let password_file = pg.password_file();
    let storage = format!(
        "[storage]\ndatabase_url = {url:?}\ndatabase_password_file = {password:?}\n",
        url = pg.url_for(database),
        password = password_file.display().to_string(),
    );
    with_storage(&storage, &redis.url(), users_toml)
}

fn with_storage(storage_toml: &str, redis_url: &str, users_toml: &str) -> String {
    format!(
        "{storage_toml}\n[sessions]\nredis_url = {url:?}\nredis_password_env = \
         \"{PASSWORD_VAR}\"\nvault_key_env = \"{VAULT_KEY_VAR}\"\nkey_prefix = \"it-{prefix}:\"\ncommand_timeout_ms = 500\n\n{users_toml}",
        url = redis_url,
        prefix = uuid::Uuid::new_v4().simple(),
    )
}

impl Replica {
    /// Starts the binary on a free loopback port with `config` and waits until `/healthz` answers.
    pub async fn start(name: &str, config: &str, redis: &RedisServer) -> Self {
        Self::start_with_env(name, config, redis, &[]).await
    }

    /// `start`, with extra environment variables for the process.
    pub async fn start_with_env(name: &str, config: &str, redis: &RedisServer, env: &[(&str, &Path)]) -> Self {
        let dir = super::canary::dir().unwrap_or_else(std::env::temp_dir);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let config_path = std::env::temp_dir().join(format!("a55-console-it-{name}-{id}.toml"));
        let log = dir.join(format!("replica-{name}-{id}.log"));
        let simulator_secret = super::canary_secret();
        super::canary::record_secret("console-simulator", &simulator_secret);
        for _ in 0..5 {
            let port = free_port();
            std::fs::write(&config_path, format!("[server]\nbind = \"127.0.0.1:{port}\"\n\n[simulator]\nclient_secret_env = \"{SIMULATOR_SECRET_VAR}\"\n\n{config}")).unwrap();
            let output = std::fs::File::create(&log).unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_a55-console"))
                .arg("--config")
                .arg(&config_path)
                .env(PASSWORD_VAR, &redis.password)
                .env(VAULT_KEY_VAR, &redis.vault_key)
                .env(SIMULATOR_SECRET_VAR, &simulator_secret)
                // What an operator debugging sessions would turn on.
                .env("A55_CONSOLE_LOG", "debug")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(output.try_clone().unwrap())
                .stderr(output)
                .spawn()
                .unwrap();
            let mut replica = Self {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log: log.clone(),
                config_path: config_path.clone(),
            };
            if replica.wait_until_healthy().await {
                return replica;
            }
            // Taken port: try another; anything else is a failed start, shown with the log.
            let text = replica.log_text();
            if !text.contains("cannot listen") {
                panic!("replica {name} did not start:\n{text}");
            }
        }
        panic!("replica {name} found no free port");
    }

    async fn wait_until_healthy(&mut self) -> bool {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if let Ok(response) = client.get(format!("{}/healthz", self.base)).send().await {
                if response.status() == 200 {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        false
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the replica dies at once, as a crashed machine or an OOM kill would end it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (what an orchestrator sends before it stops a container), then waits for the exit.
    pub async fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the replica did not exit within {within:?} of SIGTERM:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process is still running (it must never crash, whatever Redis does).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config_path);
    }
}
