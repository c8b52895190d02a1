#![allow(dead_code, reason = "each test module uses part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! Shared harness: a real console on a loopback port with its own database file, plus standalone
//! simulators to play sandbox and production.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::wire::{ConsoleError, ExecuteRequest, ExecuteResponse, TokenView};
use console_server::clock::{SharedClock, SystemClock};
use console_server::config::{self, EnvSource, RawConfig, RawEnvironment};
use console_server::simulator::{self, RunningSimulator, SimulatorSettings};
use console_server::startup::{self, RunningConsole};
use secrecy::SecretString;
use serde_json::json;

pub mod canary;
pub mod fault;
pub mod postgres;
pub mod redis;
pub mod replica;

pub const WALLET: &str = "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60";

#[derive(Default)]
pub struct Vars(pub HashMap<String, String>);

impl EnvSource for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

pub struct TestConsole {
    pub console: RunningConsole,
    /// `http://{front}`.
    pub base: String,
    /// Where test clients connect: the console, or in canary mode the recording proxy before it.
    pub front: SocketAddr,
    pub http: reqwest::Client,
}

const BUILTIN_SECRET_VAR: &str = "A55_IT_SIMULATOR_SECRET";

/// `CANARY-SECRET-<32 random bytes, base64url> a/b+c:d"e\f&g=h%i`: the random part makes every
/// 8-character fragment unique, the tail differs in every encoding.
pub fn canary_secret() -> String {
    use base64::Engine as _;
    let random: [u8; 32] = rand::random();
    format!("CANARY-SECRET-{} a/b+c:d\"e\\f&g=h%i", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random))
}

impl TestConsole {
    pub async fn start(mut raw: RawConfig, mut vars: Vars, clock: SharedClock) -> Self {
        canary::init();
        // Each console gets its own database file (unless it runs on PostgreSQL), removed with the
        // temp dir's usual cleanup (kept for the leak scan in canary mode).
        if raw.storage.database_url.is_none() {
            raw.storage.database_path = Some(canary::database_path());
        }
        // The built-in simulator gets a canary secret with characters that change under every
        // encoding, and (in canary mode) records the tokens it issues.
        if raw.simulator.client_secret_env.is_none() {
            vars.0.insert(BUILTIN_SECRET_VAR.to_owned(), canary_secret());
            raw.simulator.client_secret_env = Some(BUILTIN_SECRET_VAR.to_owned());
        }
        if raw.simulator.issued_tokens_file.is_none() {
            raw.simulator.issued_tokens_file = canary::tokens_file();
        }
        if let Some(var) = &raw.simulator.client_secret_env {
            if let Some(secret) = vars.var(var) {
                canary::record_secret(&raw.simulator.client_id, &secret);
            }
        }
        for env in raw.environments.values() {
            if let (Some(id), Some(secret)) = (&env.client_id, env.client_secret_env.as_ref().and_then(|v| vars.var(v)))
            {
                canary::record_secret(id, &secret);
            }
        }
        let config = config::validate(raw, &vars).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let console = startup::start(config, listener, clock).await.unwrap();
        let front = canary::front(console.addr).await;
        let base = format!("http://{front}");
        Self { console, base, front, http: csrf_client() }
    }

    pub async fn simulator_only() -> Self {
        Self::start(RawConfig::default(), Vars::default(), Arc::new(SystemClock)).await
    }

    pub fn builtin(&self) -> &RunningSimulator {
        self.console.simulator.as_ref().expect("the built-in simulator runs")
    }

    pub async fn execute_raw(&self, request: &ExecuteRequest) -> reqwest::Response {
        self.http.post(format!("{}/api/execute", self.base)).json(&json!({ "request": request })).send().await.unwrap()
    }

    pub async fn execute(&self, request: &ExecuteRequest) -> ExecuteResponse {
        let response = self.execute_raw(request).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "execute failed with {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn execute_error(&self, request: &ExecuteRequest) -> (u16, ConsoleError, String) {
        let response = self.execute_raw(request).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let error = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {text} ({e})"));
        (status, error, text)
    }

    pub async fn token(&self, environment: &str) -> TokenView {
        let response = self
            .http
            .post(format!("{}/api/token", self.base))
            .form(&[("environment", environment)])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.json().await.unwrap()
    }
}

/// A loopback address that refuses every connection until the test process ends: a socket bound to
/// it that never listens, kept for the whole run. A port bound and then released could be taken by
/// another test's server in the meantime, which would then answer instead of refusing.
pub fn closed_port() -> std::net::SocketAddr {
    static HELD: std::sync::Mutex<Vec<tokio::net::TcpSocket>> = std::sync::Mutex::new(Vec::new());
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = socket.local_addr().unwrap();
    HELD.lock().unwrap().push(socket);
    addr
}

/// A client that sends the console's anti-CSRF header, as the browser's server-function client does.
pub fn csrf_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(app::csrf::CSRF_HEADER, reqwest::header::HeaderValue::from_static(app::csrf::CSRF_VALUE));
    // No Accept-Encoding: the recording proxy of the leak canary must see the answers as bytes it
    // can scan, not gzip (compression itself is tested on its own).
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        // An answer that stalls fails its test within a minute instead of holding the whole run
        // until CI's limit (no request here takes more than a few seconds).
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub fn list_charges(environment: &str, limit: u32) -> ExecuteRequest {
    ExecuteRequest {
        environment: environment.into(),
        method: "GET".into(),
        path: "/bank/wallet/charges/".into(),
        query: vec![("wallet_uuid".into(), WALLET.into()), ("limit".into(), limit.to_string())],
        endpoint_id: Some("listCharges".into()),
        ..ExecuteRequest::default()
    }
}

/// A standalone simulator plus config for a console environment pointing at it.
pub async fn standalone(secret: &str, lifetime: Duration) -> RunningSimulator {
    let settings = SimulatorSettings {
        client_id: "partner-client".into(),
        client_secret: SecretString::from(secret.to_owned()),
        token_lifetime: lifetime,
        allowed_scopes: vec![simulator::DEFAULT_SCOPE.into()],
        issued_tokens_file: canary::tokens_file(),
    };
    canary::init();
    canary::record_secret("partner-client", secret);
    simulator::spawn(settings, SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap()
}

pub fn remote_env(sim: &RunningSimulator, kind: &str, secret_var: &str) -> RawEnvironment {
    RawEnvironment {
        kind: Some(kind.into()),
        api_base: Some(sim.api_base().to_string()),
        token_url: Some(sim.token_url().to_string()),
        client_id: Some("partner-client".into()),
        client_secret_env: Some(secret_var.into()),
        ..RawEnvironment::default()
    }
}

/// A sandbox environment on a fault server, with short timeouts (connect 1 s, token 1 s, request
/// 2 s) and a 1 MiB response cap, so that fault tests finish quickly.
pub fn fault_env(server: &fault::FaultServer) -> RawEnvironment {
    RawEnvironment {
        kind: Some("sandbox".into()),
        api_base: Some(server.api_base()),
        token_url: Some(server.token_url()),
        client_id: Some("fault-client".into()),
        client_secret_env: Some("FAULT_SECRET".into()),
        connect_timeout_secs: Some(1),
        token_timeout_secs: Some(1),
        request_timeout_secs: Some(2),
        max_response_bytes: Some(1 << 20),
        ..RawEnvironment::default()
    }
}

/// A console whose only remote environment, `faulty`, is the fault server.
pub async fn fault_console(server: &fault::FaultServer) -> TestConsole {
    let mut raw = RawConfig::default();
    raw.environments.insert("faulty".into(), fault_env(server));
    let vars = Vars(HashMap::from([("FAULT_SECRET".to_owned(), FAULT_SECRET.to_owned())]));
    TestConsole::start(raw, vars, Arc::new(SystemClock)).await
}

/// The client secret of `fault_console`: characters that change under every encoding.
pub const FAULT_SECRET: &str = "fault-secret a/b+c:d\"e\\f&g=h%i";

/// An opaque access token for a fault server to hand out.
pub fn fault_token() -> String {
    use base64::Engine as _;
    let random: [u8; 32] = rand::random();
    let token = format!("FAULT-AT-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random));
    canary::record_token(&token);
    token
}

/// `GET {path}` on the `faulty` environment.
pub fn get(path: &str) -> ExecuteRequest {
    ExecuteRequest {
        environment: "faulty".into(),
        method: "GET".into(),
        path: path.into(),
        ..ExecuteRequest::default()
    }
}

/// Sends bytes as they are to `addr` and returns the status code of the answer (0 if none came or
/// it was not HTTP) and the whole answer as text. For requests no HTTP client would build.
pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status =
        text.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3)).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// The audit rows of one event, oldest first: actor, outcome, detail (after everything queued is written).
pub async fn audit_rows_of(console: &TestConsole, event: &str) -> Vec<(String, String, Option<String>)> {
    console.console.audit.flush().await;
    sqlx::query_as("SELECT actor, outcome, detail FROM audit_log WHERE event = ? ORDER BY id")
        .bind(event)
        .fetch_all(console.console.db.sqlite().unwrap())
        .await
        .unwrap()
}

/// The `Set-Cookie` header for cookie `name` in `response`, if it sets one.
pub fn set_cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}
