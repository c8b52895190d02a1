//! A real PostgreSQL 15 for tests: `initdb` in a fresh temp dir and `postgres` on a free loopback
//! port, as the `postgres` user when the tests run as root (PostgreSQL refuses root), stopped and
//! removed on drop. The console connects as its own login role with a generated password; a
//! superuser pool is there for assertions. A missing binary fails the test with its name (`make
//! tools` installs PostgreSQL 15); it is never a silent skip.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, PgPool};

use super::redis::free_port;

/// Where Debian's `postgresql-15` puts its server binaries; `PG_BIN` overrides it.
const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";
/// The console's login role (not a superuser: it owns the databases the tests create).
const ROLE: &str = "console";

pub struct PostgresServer {
    child: Option<Child>,
    pub port: u16,
    /// The console role's password, a canary: the leak scan proves it is never written anywhere.
    password: String,
    superuser_password: String,
    dir: PathBuf,
    databases: AtomicU32,
}

fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("PG_BIN").map_or_else(|| PathBuf::from(DEFAULT_BIN), PathBuf::from);
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: the PostgreSQL tests need PostgreSQL 15's server binaries; `make tools` installs them \
         (Debian: apt-get install postgresql-15), or set PG_BIN to their folder",
        path.display()
    );
    path
}

/// The uid and gid to run PostgreSQL as: the `postgres` user when the tests run as root.
fn run_as() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id(&["-u"])? != 0 {
        return None;
    }
    let uid = id(&["-u", "postgres"]).expect("the tests run as root, and PostgreSQL refuses root: create a `postgres` user (apt-get install postgresql-15 does)");
    Some((uid, id(&["-g", "postgres"]).unwrap_or(uid)))
}

fn command(binary: &str, user: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(bin(binary));
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    // A locale the server always has, whatever the machine's.
    command.env("LC_ALL", "C").env("LANG", "C");
    command
}

fn secret() -> String {
    use base64::Engine as _;
    let random: [u8; 24] = rand::random();
    format!("CANARY-SECRET-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random))
}

impl PostgresServer {
    /// Initialises a cluster, starts it and waits until it answers a query.
    pub async fn start() -> Self {
        super::canary::init();
        let password = secret();
        super::canary::record_secret("postgres-console", &password);
        let superuser_password = secret();
        super::canary::record_secret("postgres-superuser", &superuser_password);
        // Under /tmp: the `postgres` user must be able to reach it, which a private TMPDIR may not allow.
        let dir = PathBuf::from("/tmp").join(format!("a55-console-it-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let user = run_as();
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, &superuser_password).unwrap();
        if let Some((uid, gid)) = user {
            for path in [dir.as_path(), pwfile.as_path()] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
            }
        }
        let initdb = command("initdb", user)
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .unwrap_or_else(|error| panic!("cannot run initdb: {error}"));
        assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        let _ = std::fs::remove_file(&pwfile);
        let mut server = Self { child: None, port: 0, password, superuser_password, dir, databases: AtomicU32::new(0) };
        // A port found free can be taken before postgres binds it: then try another.
        for _ in 0..5 {
            server.port = free_port();
            server.spawn(user);
            if server.wait_until_ready().await {
                server.create_role().await;
                return server;
            }
            server.stop();
        }
        panic!("postgres did not accept connections on a free loopback port after 5 attempts:\n{}", server.log_tail());
    }

    fn spawn(&mut self, user: Option<(u32, u32)>) {
        let log = std::fs::File::create(self.dir.join("postgres.log")).unwrap();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(self.dir.join("postgres.log"), Some(uid), Some(gid)).unwrap();
        }
        let child = command("postgres", user)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"])
            .args(["-c", "shared_preload_libraries=pg_stat_statements", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start postgres: {error}"));
        self.child = Some(child);
    }

    async fn wait_until_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().ok().flatten().is_some() {
                    return false;
                }
            }
            if let Ok(pool) = self.connect("postgres", "postgres", &self.superuser_password).await {
                let answered = sqlx::query("SELECT 1").execute(&pool).await.is_ok();
                pool.close().await;
                if answered {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn connect(&self, database: &str, user: &str, password: &str) -> Result<PgPool, sqlx::Error> {
        // Not logged: the harness's own statements carry the console role's password (CREATE ROLE),
        // and the tests' trace log is searched for every canary.
        let options = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .database(database)
            .username(user)
            .password(password)
            .disable_statement_logging();
        PgPoolOptions::new().max_connections(4).acquire_timeout(Duration::from_secs(5)).connect_with(options).await
    }

    async fn create_role(&self) {
        let admin = self.superuser_pool("postgres").await;
        sqlx::query(&format!("CREATE ROLE {ROLE} LOGIN PASSWORD '{}'", self.password)).execute(&admin).await.unwrap();
        admin.close().await;
    }

    /// A new, empty database owned by the console's role (one per test or deployment).
    pub async fn create_database(&self) -> String {
        let name = format!("console_{}", self.databases.fetch_add(1, Ordering::Relaxed));
        let admin = self.superuser_pool("postgres").await;
        sqlx::query(&format!("CREATE DATABASE {name} OWNER {ROLE}")).execute(&admin).await.unwrap();
        admin.close().await;
        let own = self.superuser_pool(&name).await;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(&own).await.unwrap();
        own.close().await;
        name
    }

    /// The console's URL for `database`: its role, never a password.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{database}", self.port)
    }

    /// The console role's password (what `database_password_env` names).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A file holding only the console role's password (what `database_password_file` names),
    /// removed with the server.
    pub fn password_file(&self) -> PathBuf {
        let file = self.dir.join(format!("console-password-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, &self.password).unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        file
    }

    /// A pool as the console's role.
    pub async fn pool(&self, database: &str) -> PgPool {
        self.connect(database, ROLE, &self.password).await.unwrap()
    }

    /// A pool as the superuser, for assertions the console's role may not make.
    pub async fn superuser_pool(&self, database: &str) -> PgPool {
        self.connect(database, "postgres", &self.superuser_password).await.unwrap()
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Starts the stopped server again on the same port and data, and waits until it answers.
    pub async fn restart(&mut self) {
        self.spawn(run_as());
        assert!(self.wait_until_ready().await, "postgres did not come back:\n{}", self.log_tail());
    }

    /// Stops the server at once (SIGQUIT: immediate shutdown), as a crash or an outage would.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-QUIT", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
