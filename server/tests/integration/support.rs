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
    pub base: String,
    pub http: reqwest::Client,
}

impl TestConsole {
    pub async fn start(mut raw: RawConfig, vars: Vars, clock: SharedClock) -> Self {
        // Each console gets its own database file, removed with the temp dir's usual cleanup.
        raw.storage.database_path = std::env::temp_dir().join(format!("a55-console-it-{}.db", uuid::Uuid::new_v4()));
        let config = config::validate(raw, &vars).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let console = startup::start(config, listener, clock).await.unwrap();
        let base = format!("http://{}", console.addr);
        Self { console, base, http: csrf_client() }
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

/// A client that sends the console's anti-CSRF header, as the browser's server-function client does.
pub fn csrf_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(app::csrf::CSRF_HEADER, reqwest::header::HeaderValue::from_static(app::csrf::CSRF_VALUE));
    reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
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
        issued_tokens_file: None,
    };
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
