//! Shared by the load, overhead and replica benchmarks: the console as its own process (this build's
//! `a55-console`, or several replicas of it) in front of a simulator served from the benchmark,
//! staff logins over real HTTP, percentiles, the console's RSS, and the section of BENCHMARKS.md
//! each benchmark writes. Redis and PostgreSQL come from the integration tests' harness.

#![allow(dead_code, reason = "each benchmark uses part of the rig")]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::wire::{ExecuteRequest, ExecuteResponse};
use console_server::simulator::{self, RunningSimulator, SimulatorSettings};
use futures::StreamExt as _;
use secrecy::{ExposeSecret, SecretString};

#[path = "../../tests/integration/support/postgres.rs"]
pub mod postgres;
/// The integration tests' real Redis and PostgreSQL servers, started the same way here.
#[path = "../../tests/integration/support/redis.rs"]
pub mod redis;
/// The harness records its servers' secrets for the tests' leak scan; benchmarks run no scan.
pub mod canary {
    pub fn init() {}
    pub fn record_secret(_what: &str, _secret: &str) {}
}

pub const ENVIRONMENT: &str = "load";
pub const CLIENT_ID: &str = "load-client";
pub const PASSWORD: &str = "a long enough load-test password";
const SECRET_VAR: &str = "A55_LOAD_CLIENT_SECRET";
const COOKIE: &str = "__Host-a55-session";
pub const WALLET: &str = "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60";

/// Whether cargo ran this as a benchmark (`cargo bench` passes `--bench`) or as a test
/// (`cargo test --bench …`, the CI smoke run).
pub fn is_bench_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub struct RigOptions {
    pub staff: usize,
    pub token_lifetime: Duration,
    pub refresh_skew: Duration,
    /// Console processes sharing `backends` (1 without them).
    pub replicas: usize,
    /// What replicas share: `[storage]` and `[sessions]` TOML, and the env vars it names.
    pub backends: Option<Backends>,
}

pub struct Backends {
    pub toml: String,
    pub env: Vec<(String, String)>,
}

/// A simulator in this process and the console binary in its own process, pointed at it.
pub struct Rig {
    pub sim: RunningSimulator,
    pub console: ConsoleProcess,
    pub base: String,
    /// The other replicas, after `console`.
    pub others: Vec<ConsoleProcess>,
    client_secret: SecretString,
}

impl Rig {
    pub async fn start(options: &RigOptions) -> Self {
        let settings = SimulatorSettings {
            client_id: CLIENT_ID.into(),
            client_secret: SimulatorSettings::with_random_secret(CLIENT_ID, options.token_lifetime).client_secret,
            token_lifetime: options.token_lifetime,
            allowed_scopes: vec![simulator::DEFAULT_SCOPE.into()],
            issued_tokens_file: None,
        };
        let client_secret = settings.client_secret.clone();
        let sim = simulator::spawn(settings, SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("simulator starts");
        // Its default per-client limit (100,000 a minute) is below what the load run sends.
        sim.simulator().set_rate_limit(u32::MAX);
        let mut consoles = futures::future::join_all(
            (0..options.replicas.max(1)).map(|_| ConsoleProcess::start(&sim, options, &client_secret)),
        )
        .await;
        let console = consoles.remove(0);
        let base = format!("http://{}", console.addr);
        Self { sim, console, base, others: consoles, client_secret }
    }

    /// The simulator's client secret, for the benchmark's own direct requests.
    pub fn client_secret(&self) -> &str {
        self.client_secret.expose_secret()
    }

    pub async fn shutdown(self) {
        self.console.stop();
        for other in self.others {
            other.stop();
        }
        self.sim.shutdown().await;
    }
}

/// The console binary serving on a loopback port, with its config, database and log in a temporary
/// directory that is removed when the process is stopped.
pub struct ConsoleProcess {
    pub addr: SocketAddr,
    pub pid: u32,
    child: Child,
    dir: PathBuf,
}

impl ConsoleProcess {
    async fn start(sim: &RunningSimulator, options: &RigOptions, secret: &SecretString) -> Self {
        let dir = std::env::temp_dir().join(format!("a55-console-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let addr = free_port();
        // One hash for every account: hashing is deliberately slow and the accounts differ by name only.
        let hash = console_server::auth::password::hash(PASSWORD).expect("hash");
        let mut toml = String::new();
        writeln!(toml, "[server]\nbind = \"{addr}\"\n").unwrap();
        match &options.backends {
            Some(backends) => writeln!(toml, "{}", backends.toml).unwrap(),
            None => writeln!(toml, "[storage]\ndatabase_path = {:?}\n", dir.join("console.db").display().to_string())
                .unwrap(),
        }
        for i in 0..options.staff {
            writeln!(
                toml,
                "[[auth.users]]\nname = \"{}\"\npassword_hash = \"{hash}\"\nrole = \"operator\"\n",
                staff_name(i)
            )
            .unwrap();
        }
        writeln!(
            toml,
            "[environments.{ENVIRONMENT}]\nkind = \"sandbox\"\nlabel = \"Load\"\napi_base = \"{}\"\ntoken_url = \"{}\"\n\
             client_id = \"{CLIENT_ID}\"\nclient_secret_env = \"{SECRET_VAR}\"\nrefresh_skew_secs = {}\n",
            sim.api_base(),
            sim.token_url(),
            options.refresh_skew.as_secs()
        )
        .unwrap();
        let config = dir.join("console.toml");
        std::fs::write(&config, toml).expect("config written");
        let log = std::fs::File::create(dir.join("console.log")).expect("log file");
        // A55_CONSOLE_BIN runs another console binary, or a wrapper (a profiler) around one.
        let binary = std::env::var_os("A55_CONSOLE_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_a55-console").into());
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .env(SECRET_VAR, secret.expose_secret())
            .envs(options.backends.iter().flat_map(|b| b.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            .env_remove("A55_CONSOLE_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("the console binary starts");
        let mut console = Self { addr, pid: child.id(), child, dir };
        console.wait_until_healthy().await;
        console
    }

    async fn wait_until_healthy(&mut self) {
        let http = reqwest::Client::new();
        // Generous: under a profiler such as callgrind start-up is many times slower.
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the console exited ({status}) during start-up:\n{}", self.log_tail());
            }
            if let Ok(response) = http.get(format!("http://{}/healthz", self.addr)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the console did not answer /healthz within 180 s:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("console.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Resident set size of the console process, in bytes.
    pub fn rss(&self) -> u64 {
        rss_of(self.pid).unwrap_or(0)
    }

    pub fn stop(mut self) {
        self.kill();
    }

    /// SIGTERM first, so the console (or a profiler wrapped around it, which writes its output on
    /// exit) ends the way an orchestrator would end it; SIGKILL if it is still running after 60 s.
    fn kill(&mut self) {
        let terminated =
            Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        while terminated && Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for ConsoleProcess {
    /// A benchmark that panics must not leave a console running.
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address")
}

pub fn staff_name(i: usize) -> String {
    format!("staff-{i:03}")
}

fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One logged-in staff member: a client of its own (own connections, like a browser), the session
/// cookie from its login, and the anti-CSRF header the browser's server-function client sends.
#[derive(Clone)]
pub struct StaffSession {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl StaffSession {
    pub async fn login(base: &str, name: &str) -> Self {
        let http = client();
        let response = http
            .post(format!("{base}/api/login"))
            .form(&[("name", name), ("password", PASSWORD)])
            .send()
            .await
            .expect("login request");
        let status = response.status();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().filter(|pair| pair.starts_with(COOKIE)).map(str::to_owned));
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "login as {name}: {body}");
        Self { http, base: base.to_owned(), cookie: cookie.expect("login sets the session cookie") }
    }

    /// The same session sent to another replica, with a client (and connections) of its own.
    pub fn on(&self, base: &str) -> Self {
        Self { http: client(), base: base.to_owned(), cookie: self.cookie.clone() }
    }

    /// `POST /api/whoami`: the session and login checks and a server function, without the backend's work.
    pub async fn whoami(&self) {
        let response = self
            .http
            .post(format!("{}/api/whoami", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("whoami request");
        assert_eq!(response.status(), 200);
        std::hint::black_box(response.bytes().await.expect("whoami answer"));
    }

    /// `POST /api/execute`: Ok(the upstream status) or Err(what went wrong).
    pub async fn execute(&self, request: &ExecuteRequest) -> Result<ExecuteResponse, String> {
        let response = self
            .http
            .post(format!("{}/api/execute", self.base))
            .header("cookie", &self.cookie)
            .json(&serde_json::json!({ "request": request }))
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("reading the answer: {e}"))?;
        if !status.is_success() {
            return Err(format!("console answered {status}: {}", text.chars().take(200).collect::<String>()));
        }
        serde_json::from_str(&text)
            .map_err(|e| format!("unreadable answer ({e}): {}", text.chars().take(200).collect::<String>()))
    }
}

/// Logs in `count` staff members, a few at a time: each login runs argon2id (19 MiB, deliberately slow).
pub async fn login_all(base: &str, count: usize) -> Vec<StaffSession> {
    futures::stream::iter(0..count)
        .map(|i| async move { StaffSession::login(base, &staff_name(i)).await })
        .buffered(4)
        .collect()
        .await
}

pub fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(app::csrf::CSRF_HEADER, reqwest::header::HeaderValue::from_static(app::csrf::CSRF_VALUE));
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// The request every benchmark sends: the first page of a wallet's charges (about 16 KB of JSON).
pub fn list_charges() -> ExecuteRequest {
    ExecuteRequest {
        environment: ENVIRONMENT.into(),
        method: "GET".into(),
        path: "/bank/wallet/charges/".into(),
        query: vec![("wallet_uuid".into(), WALLET.into()), ("limit".into(), "10".into())],
        endpoint_id: Some("listCharges".into()),
        ..ExecuteRequest::default()
    }
}

/// Value at quantile `q` (0..=1) of sorted samples.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> T {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// `rustc --version`, for the record of what built the numbers.
pub fn rustc_version() -> String {
    Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "rustc (unknown version)".into(), |v| v.trim().to_owned())
}

pub fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown date".into(), |v| v.trim().to_owned())
}

/// The machine's 1-minute load average as a sentence, to say how busy the cores were.
pub fn machine_load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .map_or_else(|| "load average unknown".into(), |l| format!("1-minute load average {l} at the start"))
}

/// Writes this benchmark's section of BENCHMARKS.md (`benchmarks/sections/<file>`); `make bench`
/// assembles the file from all sections.
pub fn write_section(file: &str, markdown: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benchmarks/sections").join(file);
    std::fs::write(&path, markdown).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}
