//! Loading and validation: layers merged by figment, then every problem collected before failing,
//! each naming the key and what to fix.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use app::wire::EnvironmentKind;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use super::auth::validate_auth;
use super::environments::{parse_service_url, validate_environment};
use super::raw::{RawConfig, RawEnvironment, RawMasking};
use super::secrets::{read_secret, SecretSource};
use super::sessions::validate_sessions;
use super::{Config, HistoryRetention, SimulatorSection, ENV_PREFIX};

/// Every problem found, each naming the key and what to do.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem{}):", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Reads the environment through a closure so tests do not touch the process environment.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)>;
}

/// The real process environment.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        std::env::vars().filter(|(k, _)| k.starts_with(prefix)).collect()
    }
}

/// Loads and validates: defaults, then `file` (when given, it must exist), then `A55_CONSOLE__*`.
pub fn load(file: Option<&Path>, env: &dyn EnvSource) -> Result<Config, ConfigErrors> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigErrors(vec![format!(
                "configuration file {} does not exist (copy console.example.toml to start one)",
                path.display()
            )]));
        }
        figment = figment.merge(Toml::file(path));
    }
    for (name, value) in env.vars_with_prefix(ENV_PREFIX) {
        let key = name[ENV_PREFIX.len()..].split("__").map(str::to_lowercase).collect::<Vec<_>>().join(".");
        if key.is_empty() {
            continue;
        }
        // Parsed like figment's own `Env` provider: numbers and booleans become typed values.
        let value: figment::value::Value = value.parse().unwrap_or_else(|_| value.clone().into());
        figment = figment.merge(Serialized::global(&key, value));
    }
    let raw: RawConfig = figment
        .extract()
        .map_err(|error| ConfigErrors(error.into_iter().map(|e| describe_figment_error(&e)).collect()))?;
    validate(raw, env)
}

fn describe_figment_error(error: &figment::Error) -> String {
    let mut text = error.kind.to_string();
    if !error.path.is_empty() {
        text = format!("{}: {text}", error.path.join("."));
    }
    if let Some(metadata) = &error.metadata {
        text.push_str(&format!(" (from {})", metadata.name));
    }
    text
}

/// Turns the raw shape into a `Config`, collecting all problems.
pub fn validate(raw: RawConfig, env: &dyn EnvSource) -> Result<Config, ConfigErrors> {
    let mut problems = Vec::new();
    let bind = match raw.server.bind.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            problems.push(format!("server.bind = {:?} is not an address:port such as 127.0.0.1:3000", raw.server.bind));
            None
        }
    };
    let simulator_secret = check_sections(&raw, env, &mut problems);
    let masking = validate_masking(raw.masking, &mut problems);
    let mut environments = Vec::new();
    for (id, raw_env) in with_default_environments(raw.environments) {
        if let Some(environment) = validate_environment(&id, raw_env, env, &mut problems) {
            environments.push(environment);
        }
    }
    // Put the safest environment first: it is the one the UI selects by default.
    environments.sort_by_key(|e| match e.kind {
        EnvironmentKind::Simulator => 0,
        EnvironmentKind::Sandbox => 1,
        EnvironmentKind::Production => 2,
    });
    let public_url = validate_public_url(raw.server.public_url.as_deref(), &mut problems);
    let metrics_token = metrics_token(&raw.server, env, &mut problems);
    let storage = super::storage::validate_storage(&raw.storage, env, &mut problems);
    let redis_sessions = validate_sessions(&raw.sessions, env, &mut problems);
    let state_key = super::sessions::validate_state_key(&raw.sessions, env, &mut problems);
    let ids: Vec<&str> = environments.iter().map(|e| e.id.as_str()).collect();
    let auth = validate_auth(raw.auth, &ids, env, &mut problems);
    let parity = super::parity::validate_parity(raw.parity, &ids, env, &mut problems);
    if let Some(bind) = bind {
        check_exposure(bind, &auth, public_url.as_ref(), &mut problems);
    }
    match (problems.is_empty(), bind, storage) {
        (true, Some(bind), Some(storage)) => Ok(Config {
            metrics_token,
            bind,
            public_url,
            auth,
            storage,
            redis_sessions,
            state_key,
            catalog_documents: raw.catalog.extra_documents,
            history: HistoryRetention {
                max_entries: u32::try_from(raw.history.max_entries).unwrap_or(u32::MAX),
                max_age: Duration::from_secs(raw.history.max_age_days * 86_400),
            },
            masking,
            simulator: SimulatorSection {
                token_lifetime: Duration::from_secs(raw.simulator.token_lifetime_secs),
                client_id: raw.simulator.client_id,
                client_secret: simulator_secret,
                issued_tokens_file: raw.simulator.issued_tokens_file,
            },
            environments,
            parity,
        }),
        _ => Err(ConfigErrors(problems)),
    }
}

/// The simulator, storage, catalog and history sections; answers the simulator's secret, if set.
fn check_sections(raw: &RawConfig, env: &dyn EnvSource, problems: &mut Vec<String>) -> Option<SecretString> {
    if !(1..=172_800).contains(&raw.simulator.token_lifetime_secs) {
        problems.push("simulator.token_lifetime_secs must be between 1 and 172800 seconds".into());
    }
    if raw.simulator.client_id.trim().is_empty() {
        problems.push("simulator.client_id must not be empty".into());
    }
    for (index, path) in raw.catalog.extra_documents.iter().enumerate() {
        if path.as_os_str().is_empty() {
            problems.push(format!("catalog.extra_documents[{index}] is empty: name an OpenAPI YAML or JSON file"));
        }
    }
    if !(1..=1_000_000).contains(&raw.history.max_entries) {
        problems.push(format!("history.max_entries = {} must be between 1 and 1000000", raw.history.max_entries));
    }
    if !(1..=3650).contains(&raw.history.max_age_days) {
        problems.push(format!("history.max_age_days = {} must be between 1 and 3650", raw.history.max_age_days));
    }
    raw.simulator.client_secret_env.as_ref().and_then(|var| match env.var(var) {
        Some(value) if !value.trim().is_empty() => Some(SecretString::from(value.trim().to_owned())),
        _ => {
            problems.push(format!(
                "simulator.client_secret_env names env var {var}, which is not set or empty (leave it out for a random secret)"
            ));
            None
        }
    })
}

/// With no environment configured, the embedded default: the console works on a fresh machine
/// with no credentials at all.
fn with_default_environments(
    mut environments: std::collections::BTreeMap<String, RawEnvironment>,
) -> std::collections::BTreeMap<String, RawEnvironment> {
    if environments.is_empty() {
        environments.insert(
            "simulator".into(),
            RawEnvironment {
                kind: Some("simulator".into()),
                label: Some("Simulator".into()),
                ..RawEnvironment::default()
            },
        );
        // A protected production twin whose data drifts from the simulator's, so Compare has two
        // environments to put side by side out of the box.
        environments.insert(
            "simulator-production".into(),
            RawEnvironment {
                kind: Some("production".into()),
                label: Some("Simulator (production data)".into()),
                simulator: Some("production".into()),
                ..RawEnvironment::default()
            },
        );
    }
    environments
}

/// Shorter scrape tokens are refused: the token is the whole credential for `/metrics`.
const MIN_METRICS_TOKEN_CHARS: usize = 32;

/// The `/metrics` scrape token from `server.metrics_token_env` or `server.metrics_token_file`.
fn metrics_token(raw: &super::raw::RawServer, env: &dyn EnvSource, problems: &mut Vec<String>) -> Option<SecretString> {
    if raw.metrics_token.is_some() {
        problems.push(
            "server.metrics_token must not be written in configuration: set server.metrics_token_env (the name of an \
             env var) or server.metrics_token_file (a file holding only the token)"
                .into(),
        );
    }
    let source = SecretSource {
        env_key: "server.metrics_token_env",
        env_var: raw.metrics_token_env.as_deref(),
        file_key: "server.metrics_token_file",
        file: raw.metrics_token_file.as_deref(),
    };
    let token = read_secret(&source, env, problems)?;
    let text = token.expose_secret();
    if text.chars().count() < MIN_METRICS_TOKEN_CHARS || text.chars().any(|c| c.is_control() || c == ' ') {
        problems.push(format!(
            "the /metrics token must be at least {MIN_METRICS_TOKEN_CHARS} characters without spaces (it is the \
             whole credential), e.g. the output of `openssl rand -hex 32`"
        ));
        return None;
    }
    Some(token)
}

/// Beyond loopback the console needs staff accounts, and https so session cookies work.
fn check_exposure(bind: SocketAddr, auth: &super::AuthSection, public_url: Option<&Url>, problems: &mut Vec<String>) {
    let loopback = bind.ip().is_loopback();
    if auth.local_mode() && !loopback {
        problems.push(format!(
            "server.bind = {bind} is not a loopback address, but no staff accounts are configured, so everyone who \
             reaches the console would be its admin: add [[auth.users]] entries (hash each password with \
             `a55-console hash-password`) or bind to 127.0.0.1"
        ));
    }
    if !auth.local_mode() && !loopback && public_url.is_none_or(|u| u.scheme() != "https") {
        problems.push(format!(
            "server.bind = {bind} is not a loopback address: set server.public_url to the https:// address staff \
             use (session cookies are Secure, so plain http works on loopback only)"
        ));
    }
}

fn validate_masking(raw: RawMasking, problems: &mut Vec<String>) -> crate::masking::MaskingSettings {
    let mut secret_fields = Vec::new();
    for (index, field) in raw.secret_fields.iter().enumerate() {
        let normalized = crate::masking::secrets::normalize(field);
        if normalized.is_empty() {
            problems
                .push(format!("masking.secret_fields[{index}] is empty: name a response field, e.g. \"merchant_pin\""));
        } else {
            secret_fields.push(normalized);
        }
    }
    let mut demo_rules = Vec::new();
    for (index, expression) in raw.demo_rules.iter().enumerate() {
        match crate::masking::rules::PathRule::parse(expression) {
            Ok(rule) => demo_rules.push(rule),
            Err(error) => problems.push(format!("masking.demo_rules[{index}] = {expression:?}: {error}")),
        }
    }
    crate::masking::MaskingSettings { force_demo: raw.force_demo, secret_fields, demo_rules }
}

/// The public origin: https anywhere, http on loopback; no path, credentials, query or fragment.
fn validate_public_url(value: Option<&str>, problems: &mut Vec<String>) -> Option<Url> {
    let value = value?;
    let url = parse_service_url(Some(value), "server.public_url", problems)?;
    if url.path() != "/" {
        problems.push(format!(
            "server.public_url = {value:?} must be an origin only (no path), e.g. https://console.example.com"
        ));
        return None;
    }
    Some(url)
}
