//! Layered configuration (defaults → `console.toml` → `A55_CONSOLE__*` env vars), validated at start-up.
//!
//! Validation collects *every* problem before failing, each with what to fix, so an operator fixes a
//! file in one pass. Client secrets never live in the file: only the name of an env var or a file path.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use app::wire::{EnvironmentKind, Role};
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Prefix of environment variables that override the file, with `__` separating nested keys:
/// `A55_CONSOLE__SERVER__BIND=127.0.0.1:4000`, `A55_CONSOLE__ENVIRONMENTS__SANDBOX__CLIENT_ID=…`.
pub const ENV_PREFIX: &str = "A55_CONSOLE__";

/// The file shape. Every field has a default so an empty or absent file is valid.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServer,
    pub simulator: RawSimulator,
    pub storage: RawStorage,
    pub auth: RawAuth,
    pub catalog: RawCatalog,
    pub history: RawHistory,
    pub masking: RawMasking,
    /// Keyed by environment id; ordered so the UI lists them as written.
    pub environments: BTreeMap<String, RawEnvironment>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    pub bind: String,
    /// The origin staff type into the browser, e.g. `https://console.example.com` (when behind a TLS
    /// proxy). Requests must name this host (or a loopback one); https turns on HSTS.
    pub public_url: Option<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        Self { bind: "127.0.0.1:3000".into(), public_url: None }
    }
}

/// Staff accounts and session policy. No accounts means local mode (one local admin, loopback only).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAuth {
    pub users: Vec<RawUser>,
    /// A session unused this long ends.
    pub idle_timeout_mins: u64,
    /// A session ends this long after login, however busy.
    pub absolute_timeout_hours: u64,
    /// Failed logins allowed per account and per client address within `lockout_secs`.
    pub max_failed_logins: u32,
    pub lockout_secs: u64,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            idle_timeout_mins: 30,
            absolute_timeout_hours: 12,
            max_failed_logins: 5,
            lockout_secs: 900,
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUser {
    pub name: String,
    /// Argon2id PHC string from `a55-console hash-password`.
    pub password_hash: String,
    pub role: String,
    /// Per-environment role overrides: environment id -> "viewer" | "operator" | "admin" | "none".
    pub environments: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStorage {
    /// The SQLite file (created on first start) for sessions, history and audit.
    pub database_path: PathBuf,
}

impl Default for RawStorage {
    fn default() -> Self {
        Self { database_path: PathBuf::from("a55-console.db") }
    }
}

/// OpenAPI documents added to the bundled a55 catalog.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCatalog {
    /// OpenAPI 3.0/3.1 files (YAML or JSON). One that is missing or malformed is shown as
    /// unavailable with the reason; it never stops the console.
    pub extra_documents: Vec<PathBuf>,
}

/// How long request history is kept (per staff member).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHistory {
    pub max_entries: u64,
    pub max_age_days: u64,
}

impl Default for RawHistory {
    fn default() -> Self {
        Self { max_entries: 500, max_age_days: 30 }
    }
}

/// Masking of response data: secrets always, personal data in demo mode.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMasking {
    /// Demo mode for every session of this instance (a console shown to partners); staff cannot turn it off.
    pub force_demo: bool,
    /// Field names masked as secrets in every response, on top of the built-in ones (`client_secret`,
    /// `access_token`, `password`, `credentials`, ...). Matched ignoring case, `_` and `-`.
    pub secret_fields: Vec<String>,
    /// RFC 9535 JSONPath expressions whose matches (and everything under them) are masked in demo mode.
    pub demo_rules: Vec<String>,
}

/// `live_spec = true` (fetch `{api_base}/swagger.json`), `false`, or a path under the API base.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawLiveSpec {
    Enabled(bool),
    Path(String),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSimulator {
    /// `expires_in` of simulator tokens; short values make expiry visible in minutes.
    pub token_lifetime_secs: u64,
    pub client_id: String,
    /// Env var holding the built-in simulator's client secret; a random one is made when left out.
    /// Test aid: lets a test run plant a known canary secret.
    pub client_secret_env: Option<String>,
    /// Test aid: append every access token the built-in simulator issues to this file.
    pub issued_tokens_file: Option<PathBuf>,
}

impl Default for RawSimulator {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3600,
            client_id: "console-simulator".into(),
            client_secret_env: None,
            issued_tokens_file: None,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEnvironment {
    pub label: Option<String>,
    pub kind: Option<String>,
    pub colour: Option<String>,
    pub api_base: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    /// Present only so that a secret written into the file gets a precise error instead of being used.
    pub client_secret: Option<MisplacedSecret>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub scope: Option<String>,
    pub client_auth: Option<String>,
    pub refresh_skew_secs: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub token_timeout_secs: Option<u64>,
    pub max_response_bytes: Option<u64>,
    /// Refuse every write method here, whatever the role.
    pub read_only: Option<bool>,
    /// Only these methods may be sent here (upper case); all when left out.
    pub allowed_methods: Option<Vec<String>>,
    /// Writes need the environment id typed as confirmation. Default: true for production.
    pub confirm_writes: Option<bool>,
    pub live_spec: Option<RawLiveSpec>,
    /// Serve this environment from the built-in simulator: `"sandbox"` (its usual data, the default
    /// for kind "simulator") or `"production"` (the same API with production-like data, for compares).
    pub simulator: Option<String>,
}

impl fmt::Debug for RawUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawUser")
            .field("name", &self.name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("environments", &self.environments)
            .finish()
    }
}

/// A secret someone wrote into the file: refused by validation, and never printed by `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct MisplacedSecret(String);

impl fmt::Debug for MisplacedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the client authenticates at the token endpoint (both are accepted by Cognito).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (a55's own examples).
    SecretPost,
    /// `Authorization: Basic base64(urlencode(id):urlencode(secret))`, RFC 6749 §2.3.1.
    SecretBasic,
}

/// Credentials and token endpoint of a remote environment.
#[derive(Clone)]
pub struct RemoteTarget {
    pub api_base: Url,
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Set when the secret came from a file: the token broker re-reads it when it changes (rotation).
    pub client_secret_file: Option<PathBuf>,
}

impl fmt::Debug for RemoteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteTarget")
            .field("api_base", &self.api_base.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// Where an environment's requests go.
#[derive(Clone, Debug)]
pub enum Target {
    /// The built-in simulator, started in-process; its credentials are generated at start-up.
    Simulator,
    /// The built-in simulator's production-like data set (`/production/api/v1`), same credentials.
    SimulatorProduction,
    Remote(Box<RemoteTarget>),
}

#[derive(Clone, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    /// Whole request, first byte to last.
    pub request: Duration,
    /// Token fetch; shorter than `request` so a hanging token endpoint fails first.
    pub token: Duration,
}

/// A validated environment.
#[derive(Clone, Debug)]
pub struct Environment {
    pub id: String,
    pub label: String,
    pub kind: EnvironmentKind,
    pub colour: String,
    pub target: Target,
    pub scope: Option<String>,
    pub client_auth: ClientAuth,
    pub refresh_skew: Duration,
    pub timeouts: Timeouts,
    pub max_response_bytes: usize,
    pub guard: GuardRails,
    /// Path of the environment's live OpenAPI document under its API base, when enabled.
    pub live_spec: Option<String>,
}

/// Per-environment limits that apply to every staff member, enforced by the service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardRails {
    pub read_only: bool,
    /// `None`: every method the console supports.
    pub allowed_methods: Option<Vec<String>>,
    pub confirm_writes: bool,
}

/// One staff account.
#[derive(Clone)]
pub struct StaffAccount {
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub environment_roles: Vec<(String, Option<Role>)>,
}

impl fmt::Debug for StaffAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffAccount")
            .field("name", &self.name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("environment_roles", &self.environment_roles)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct AuthSection {
    /// Empty: local mode.
    pub users: Vec<StaffAccount>,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    pub max_failed_logins: u32,
    pub lockout: Duration,
}

impl AuthSection {
    pub fn local_mode(&self) -> bool {
        self.users.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct SimulatorSection {
    pub token_lifetime: Duration,
    pub client_id: String,
    /// From `simulator.client_secret_env`; `None` means a random secret at start-up.
    pub client_secret: Option<SecretString>,
    pub issued_tokens_file: Option<PathBuf>,
}

/// The validated configuration the server runs on.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    /// Origin staff use, when configured (scheme, host and port only).
    pub public_url: Option<Url>,
    pub auth: AuthSection,
    pub database_path: PathBuf,
    /// Extra OpenAPI documents for the catalog, in order.
    pub catalog_documents: Vec<PathBuf>,
    pub history: HistoryRetention,
    pub masking: crate::masking::MaskingSettings,
    pub simulator: SimulatorSection,
    pub environments: Vec<Environment>,
}

impl Config {
    pub fn uses_simulator(&self) -> bool {
        self.environments.iter().any(|e| matches!(e.target, Target::Simulator | Target::SimulatorProduction))
    }
}

/// Bounds on request history: the newest `max_entries` per staff member, none older than `max_age`.
#[derive(Clone, Debug)]
pub struct HistoryRetention {
    pub max_entries: u32,
    pub max_age: Duration,
}

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
    if !(1..=172_800).contains(&raw.simulator.token_lifetime_secs) {
        problems.push("simulator.token_lifetime_secs must be between 1 and 172800 seconds".into());
    }
    if raw.storage.database_path.as_os_str().is_empty() {
        problems.push("storage.database_path must name a file, e.g. \"a55-console.db\"".into());
    }
    if raw.simulator.client_id.trim().is_empty() {
        problems.push("simulator.client_id must not be empty".into());
    }
    let simulator_secret = raw.simulator.client_secret_env.as_ref().and_then(|var| match env.var(var) {
        Some(value) if !value.trim().is_empty() => Some(SecretString::from(value.trim().to_owned())),
        _ => {
            problems.push(format!(
                "simulator.client_secret_env names env var {var}, which is not set or empty (leave it out for a random secret)"
            ));
            None
        }
    });
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

    let masking = validate_masking(raw.masking, &mut problems);

    let mut raw_environments = raw.environments;
    if raw_environments.is_empty() {
        // The embedded default: the console works on a fresh machine with no credentials at all.
        raw_environments.insert(
            "simulator".into(),
            RawEnvironment {
                kind: Some("simulator".into()),
                label: Some("Simulator".into()),
                ..RawEnvironment::default()
            },
        );
        // A protected production twin whose data drifts from the simulator's, so Compare has two
        // environments to put side by side out of the box.
        raw_environments.insert(
            "simulator-production".into(),
            RawEnvironment {
                kind: Some("production".into()),
                label: Some("Simulator (production data)".into()),
                simulator: Some("production".into()),
                ..RawEnvironment::default()
            },
        );
    }
    let mut environments = Vec::new();
    for (id, raw_env) in raw_environments {
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
    let ids: Vec<&str> = environments.iter().map(|e| e.id.as_str()).collect();
    let auth = validate_auth(raw.auth, &ids, &mut problems);
    if let Some(bind) = bind {
        let loopback = bind.ip().is_loopback();
        if auth.local_mode() && !loopback {
            problems.push(format!(
                "server.bind = {bind} is not a loopback address, but no staff accounts are configured, so everyone who \
                 reaches the console would be its admin: add [[auth.users]] entries (hash each password with \
                 `a55-console hash-password`) or bind to 127.0.0.1"
            ));
        }
        if !auth.local_mode() && !loopback && public_url.as_ref().is_none_or(|u| u.scheme() != "https") {
            problems.push(format!(
                "server.bind = {bind} is not a loopback address: set server.public_url to the https:// address staff \
                 use (session cookies are Secure, so plain http works on loopback only)"
            ));
        }
    }

    match (problems.is_empty(), bind) {
        (true, Some(bind)) => Ok(Config {
            bind,
            public_url,
            auth,
            database_path: raw.storage.database_path,
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
        }),
        _ => Err(ConfigErrors(problems)),
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

fn validate_environment(
    id: &str,
    raw: RawEnvironment,
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> Option<Environment> {
    let key = |field: &str| format!("environments.{id}.{field}");
    let before = problems.len();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        problems.push(format!("environment id {id:?} must use only a-z, 0-9, '-' and '_'"));
    }
    let kind = match raw.kind.as_deref() {
        Some("simulator") => Some(EnvironmentKind::Simulator),
        Some("sandbox") => Some(EnvironmentKind::Sandbox),
        Some("production") => Some(EnvironmentKind::Production),
        Some(other) => {
            problems.push(format!("{} = {other:?}: use \"simulator\", \"sandbox\" or \"production\"", key("kind")));
            None
        }
        None => {
            problems.push(format!("{} is missing: use \"simulator\", \"sandbox\" or \"production\"", key("kind")));
            None
        }
    };
    if raw.client_secret.is_some() {
        problems.push(format!(
            "{} must not be written in configuration: set {} (the name of an env var) or {} (a file holding only the secret)",
            key("client_secret"),
            key("client_secret_env"),
            key("client_secret_file"),
        ));
    }
    let client_auth = match raw.client_auth.as_deref() {
        None | Some("client_secret_post") => ClientAuth::SecretPost,
        Some("client_secret_basic") => ClientAuth::SecretBasic,
        Some(other) => {
            problems.push(format!(
                "{} = {other:?}: use \"client_secret_post\" or \"client_secret_basic\"",
                key("client_auth")
            ));
            ClientAuth::SecretPost
        }
    };
    let secs = |value: Option<u64>,
                default: u64,
                field: &str,
                range: std::ops::RangeInclusive<u64>,
                problems: &mut Vec<String>| {
        let value = value.unwrap_or(default);
        if !range.contains(&value) {
            problems.push(format!("{} = {value} must be between {} and {}", key(field), range.start(), range.end()));
        }
        Duration::from_secs(value)
    };
    let timeouts = Timeouts {
        connect: secs(raw.connect_timeout_secs, 5, "connect_timeout_secs", 1..=60, problems),
        request: secs(raw.request_timeout_secs, 30, "request_timeout_secs", 1..=600, problems),
        token: secs(raw.token_timeout_secs, 10, "token_timeout_secs", 1..=120, problems),
    };
    if timeouts.token >= timeouts.request {
        problems.push(format!(
            "{} ({} s) must be shorter than {} ({} s), so a hanging token endpoint fails before the request does",
            key("token_timeout_secs"),
            timeouts.token.as_secs(),
            key("request_timeout_secs"),
            timeouts.request.as_secs()
        ));
    }
    let refresh_skew = secs(raw.refresh_skew_secs, 300, "refresh_skew_secs", 0..=3600, problems);
    let max_response_bytes = raw.max_response_bytes.unwrap_or(50_000_000);
    if !(1_024..=500_000_000).contains(&max_response_bytes) {
        problems
            .push(format!("{} = {max_response_bytes} must be between 1024 and 500000000", key("max_response_bytes")));
    }
    if let Some(scope) = &raw.scope {
        if scope.trim().is_empty() || scope.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            problems.push(format!("{} must be space-separated scope names (or left out)", key("scope")));
        }
    }

    let allowed_methods = raw.allowed_methods.as_ref().map(|methods| {
        let methods: Vec<String> = methods.iter().map(|m| m.trim().to_ascii_uppercase()).collect();
        for method in &methods {
            if !KNOWN_METHODS.contains(&method.as_str()) {
                problems.push(format!(
                    "{} lists {method:?}: use some of {}",
                    key("allowed_methods"),
                    KNOWN_METHODS.join(", ")
                ));
            }
        }
        methods
    });
    let guard = GuardRails {
        read_only: raw.read_only.unwrap_or(false),
        allowed_methods,
        confirm_writes: raw.confirm_writes.unwrap_or(kind == Some(EnvironmentKind::Production)),
    };

    let live_spec = match &raw.live_spec {
        None | Some(RawLiveSpec::Enabled(false)) => None,
        Some(RawLiveSpec::Enabled(true)) => Some(crate::catalog::live::DEFAULT_SPEC_PATH.to_owned()),
        Some(RawLiveSpec::Path(path)) => {
            // Checked with the same builder that fetches it, so a path that would leave the API base
            // is refused here rather than at the first fetch.
            let probe = Url::parse("https://api.invalid/base/").ok();
            match probe.map(|base| crate::upstream::path::build_url(&base, path, &[], &[])) {
                Some(Ok(_)) => Some(path.clone()),
                Some(Err(error)) => {
                    problems.push(format!(
                        "{} = {path:?}: {error} (give a path under api_base such as \"swagger.json\", or true)",
                        key("live_spec")
                    ));
                    None
                }
                None => None,
            }
        }
    };
    let simulated = match raw.simulator.as_deref() {
        None => (kind == Some(EnvironmentKind::Simulator)).then_some(Target::Simulator),
        Some("sandbox") => Some(Target::Simulator),
        Some("production") => Some(Target::SimulatorProduction),
        Some(other) => {
            problems.push(format!(
                "{} = {other:?}: use \"sandbox\" or \"production\" (the built-in simulator's data sets), or remove it to use api_base",
                key("simulator")
            ));
            None
        }
    };
    let target = match (kind, simulated) {
        (Some(_), Some(target)) => {
            for (field, set) in [
                ("api_base", raw.api_base.is_some()),
                ("token_url", raw.token_url.is_some()),
                ("client_secret_env", raw.client_secret_env.is_some()),
                ("client_secret_file", raw.client_secret_file.is_some()),
            ] {
                if set {
                    problems.push(format!(
                        "{} is set, but a simulator environment uses the built-in simulator: remove it, or use kind = \"sandbox\" to point at a server",
                        key(field)
                    ));
                }
            }
            Some(target)
        }
        (Some(_), None) if raw.simulator.is_some() || kind == Some(EnvironmentKind::Simulator) => None,
        (Some(_), None) => remote_target(id, &raw, env, problems).map(|r| Target::Remote(Box::new(r))),
        (None, _) => None,
    };

    if problems.len() > before {
        return None;
    }
    let kind = kind?;
    Some(Environment {
        id: id.to_owned(),
        label: raw.label.unwrap_or_else(|| id.to_owned()),
        colour: raw.colour.unwrap_or_else(|| default_colour(kind).to_owned()),
        kind,
        target: target?,
        scope: raw.scope,
        client_auth,
        refresh_skew,
        timeouts,
        max_response_bytes: usize::try_from(max_response_bytes).unwrap_or(usize::MAX),
        guard,
        live_spec,
    })
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

fn validate_auth(raw: RawAuth, environment_ids: &[&str], problems: &mut Vec<String>) -> AuthSection {
    let mut users: Vec<StaffAccount> = Vec::new();
    for (index, user) in raw.users.into_iter().enumerate() {
        let key = format!("auth.users[{index}]");
        let name = user.name.trim().to_owned();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
        if !name_ok {
            problems.push(format!(
                "{key}.name = {:?} must be 1-64 characters of a-z, 0-9, '.', '-', '_' or '@'",
                user.name
            ));
        }
        if users.iter().any(|u| u.name.eq_ignore_ascii_case(&name)) {
            problems.push(format!("{key}.name = {name:?} is listed twice"));
        }
        if let Err(reason) = crate::auth::password::check_phc(&user.password_hash) {
            problems.push(format!(
                "{key}.password_hash for {name:?} {reason}: generate one with `a55-console hash-password`"
            ));
        }
        let role = Role::parse(&user.role);
        if role.is_none() {
            problems.push(format!("{key}.role = {:?}: use \"viewer\", \"operator\" or \"admin\"", user.role));
        }
        let mut environment_roles = Vec::new();
        for (environment, value) in user.environments {
            if !environment_ids.contains(&environment.as_str()) {
                problems.push(format!(
                    "{key}.environments.{environment}: there is no environment {environment:?} (known: {})",
                    environment_ids.join(", ")
                ));
            }
            match value.as_str() {
                "none" => environment_roles.push((environment, None)),
                other => match Role::parse(other) {
                    Some(role) => environment_roles.push((environment, Some(role))),
                    None => problems.push(format!(
                        "{key}.environments.{environment} = {other:?}: use \"viewer\", \"operator\", \"admin\" or \"none\""
                    )),
                },
            }
        }
        if let Some(role) = role {
            users.push(StaffAccount { name, password_hash: user.password_hash, role, environment_roles });
        }
    }
    if !(1..=1440).contains(&raw.idle_timeout_mins) {
        problems.push("auth.idle_timeout_mins must be between 1 and 1440".into());
    }
    if !(1..=168).contains(&raw.absolute_timeout_hours) {
        problems.push("auth.absolute_timeout_hours must be between 1 and 168".into());
    }
    if raw.idle_timeout_mins > raw.absolute_timeout_hours.saturating_mul(60) {
        problems.push("auth.idle_timeout_mins must not be longer than auth.absolute_timeout_hours".into());
    }
    if !(1..=100).contains(&raw.max_failed_logins) {
        problems.push("auth.max_failed_logins must be between 1 and 100".into());
    }
    if !(1..=86_400).contains(&raw.lockout_secs) {
        problems.push("auth.lockout_secs must be between 1 and 86400".into());
    }
    AuthSection {
        users,
        idle_timeout: Duration::from_secs(raw.idle_timeout_mins.saturating_mul(60)),
        absolute_timeout: Duration::from_secs(raw.absolute_timeout_hours.saturating_mul(3600)),
        max_failed_logins: raw.max_failed_logins,
        lockout: Duration::from_secs(raw.lockout_secs),
    }
}

/// Every method the console can send; `allowed_methods` must be a subset.
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

fn default_colour(kind: EnvironmentKind) -> &'static str {
    match kind {
        EnvironmentKind::Simulator => "#6b7280",
        EnvironmentKind::Sandbox => "#2563eb",
        EnvironmentKind::Production => "#dc2626",
    }
}

fn remote_target(
    id: &str,
    raw: &RawEnvironment,
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> Option<RemoteTarget> {
    let key = |field: &str| format!("environments.{id}.{field}");
    let api_base = parse_service_url(raw.api_base.as_deref(), &key("api_base"), problems).map(|mut url| {
        // The base is a directory: segments are pushed below it, never joined against it.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url
    });
    let token_url = parse_service_url(raw.token_url.as_deref(), &key("token_url"), problems);
    let client_id = match raw.client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Some(id.to_owned()),
        _ => {
            problems
                .push(format!("{} is missing: the OAuth2 client id a55 issued for this environment", key("client_id")));
            None
        }
    };
    let secret = match (&raw.client_secret_env, &raw.client_secret_file) {
        (Some(_), Some(_)) => {
            problems.push(format!("set only one of {} and {}", key("client_secret_env"), key("client_secret_file")));
            None
        }
        (None, None) => {
            if raw.client_secret.is_none() {
                problems.push(format!(
                    "no client secret for {id}: set {} to the name of an env var holding it, or {} to a file holding it",
                    key("client_secret_env"),
                    key("client_secret_file")
                ));
            }
            None
        }
        (Some(var), None) => match env.var(var) {
            Some(value) if !value.trim().is_empty() => Some(SecretString::from(value.trim().to_owned())),
            _ => {
                problems.push(format!("{} names env var {var}, which is not set or empty", key("client_secret_env")));
                None
            }
        },
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(value) if !value.trim().is_empty() => Some(SecretString::from(value.trim().to_owned())),
            Ok(_) => {
                problems.push(format!("{} = {} is empty", key("client_secret_file"), path.display()));
                None
            }
            Err(error) => {
                problems.push(format!("{} = {} cannot be read: {error}", key("client_secret_file"), path.display()));
                None
            }
        },
    };
    Some(RemoteTarget {
        api_base: api_base?,
        token_url: token_url?,
        client_id: client_id?,
        client_secret: secret?,
        client_secret_file: raw.client_secret_file.clone(),
    })
}

/// An https URL, or http on loopback only (local test servers); no credentials, query or fragment.
fn parse_service_url(value: Option<&str>, key: &str, problems: &mut Vec<String>) -> Option<Url> {
    let Some(value) = value else {
        problems.push(format!("{key} is missing"));
        return None;
    };
    let url = match Url::parse(value) {
        Ok(url) => url,
        Err(error) => {
            problems.push(format!("{key} = {value:?} is not a URL ({error})"));
            return None;
        }
    };
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    let mut ok = true;
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            problems.push(format!("{key} = {value:?} must use https (plain http is allowed only on loopback)"));
            ok = false;
        }
        other => {
            problems.push(format!("{key} = {value:?} has scheme {other:?}: use https"));
            ok = false;
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        problems.push(format!("{key} must not contain credentials"));
        ok = false;
    }
    if url.query().is_some() || url.fragment().is_some() {
        problems.push(format!("{key} must not have a query or fragment"));
        ok = false;
    }
    ok.then_some(url)
}

/// A one-screen summary for `check-config`; shows where secrets come from, never the secrets.
pub fn summary(config: &Config) -> String {
    let mut out = format!("bind: {}\ndatabase: {}\n", config.bind, config.database_path.display());
    if config.auth.local_mode() {
        out.push_str("staff: none configured, local mode (one local admin, loopback only)\n");
    } else {
        for user in &config.auth.users {
            out.push_str(&format!("staff: {} ({})\n", user.name, user.role.as_str()));
        }
    }
    for env in &config.environments {
        out.push_str(&format!("environment {} ({}, {}):\n", env.id, env.label, env.kind.as_str()));
        match &env.target {
            Target::Simulator => out.push_str(&format!(
                "  built-in simulator, token lifetime {} s\n",
                config.simulator.token_lifetime.as_secs()
            )),
            Target::SimulatorProduction => out.push_str(&format!(
                "  built-in simulator, production-like data, token lifetime {} s\n",
                config.simulator.token_lifetime.as_secs()
            )),
            Target::Remote(remote) => {
                out.push_str(&format!("  api_base:  {}\n  token_url: {}\n", remote.api_base, remote.token_url));
                // Never the secret, nor its length: only that one was found.
                out.push_str(&format!("  client_id: {}  client secret: loaded\n", remote.client_id));
            }
        }
        out.push_str(&format!(
            "  auth: {:?}, scope: {}, refresh skew: {} s, timeouts: connect {} s / request {} s / token {} s, max response: {} bytes\n",
            env.client_auth,
            env.scope.as_deref().unwrap_or("(none)"),
            env.refresh_skew.as_secs(),
            env.timeouts.connect.as_secs(),
            env.timeouts.request.as_secs(),
            env.timeouts.token.as_secs(),
            env.max_response_bytes
        ));
        if let Some(path) = &env.live_spec {
            out.push_str(&format!("  live spec: {path} (under api_base)\n"));
        }
    }
    for path in &config.catalog_documents {
        out.push_str(&format!("catalog document: {}\n", path.display()));
    }
    out.push_str(&format!(
        "history: newest {} runs per staff member, at most {} days\n",
        config.history.max_entries,
        config.history.max_age.as_secs() / 86_400
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeEnv(HashMap<String, String>);

    impl FakeEnv {
        fn with(mut self, k: &str, v: &str) -> Self {
            self.0.insert(k.into(), v.into());
            self
        }
    }

    impl EnvSource for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
        fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
            self.0.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.clone(), v.clone())).collect()
        }
    }

    fn write_toml(text: &str) -> tempfile_lite::TempFile {
        tempfile_lite::TempFile::with_contents(text)
    }

    /// A tiny temp-file helper so config tests read real files without another dependency.
    mod tempfile_lite {
        pub struct TempFile(pub std::path::PathBuf);
        impl TempFile {
            pub fn with_contents(text: &str) -> Self {
                let path = std::env::temp_dir().join(format!("a55-console-test-{}.toml", uuid::Uuid::new_v4()));
                std::fs::write(&path, text).unwrap();
                Self(path)
            }
        }
        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn masking_rules_are_checked_and_forced_demo_mode_is_read() {
        let file = write_toml(
            r#"
[masking]
force_demo = true
secret_fields = ["Merchant-Pin", " "]
demo_rules = ["$.data[*].description", "$.data[", ""]
"#,
        );
        let errors = load(Some(&file.0), &FakeEnv::default()).unwrap_err().0;
        let text = errors.join("\n");
        assert!(text.contains("masking.secret_fields[1] is empty"), "{text}");
        assert!(text.contains("masking.demo_rules[1] = \"$.data[\": invalid JSONPath at column"), "{text}");
        assert!(text.contains("masking.demo_rules[2] = \"\": the expression is empty"), "{text}");
        assert_eq!(errors.len(), 3, "{text}");

        let file = write_toml(
            "[masking]\nforce_demo = true\nsecret_fields = [\"Merchant-Pin\"]\ndemo_rules = [\"$..note\"]\n",
        );
        let config = load(Some(&file.0), &FakeEnv::default()).unwrap();
        assert!(config.masking.force_demo);
        assert_eq!(config.masking.secret_fields, ["merchantpin"]);
        assert_eq!(config.masking.demo_rules[0].expression, "$..note");
        assert!(!load(None, &FakeEnv::default()).unwrap().masking.force_demo, "off unless configured");
    }

    #[test]
    fn the_example_configuration_is_valid_once_its_secrets_are_set() {
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../console.example.toml");
        let env = FakeEnv::default()
            .with("A55_SANDBOX_CLIENT_SECRET", "sandbox-secret")
            .with("A55_PRODUCTION_CLIENT_SECRET", "production-secret");
        let config = load(Some(&example), &env).unwrap();
        let kinds: Vec<_> = config.environments.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["simulator", "sandbox", "production"]);
        let Target::Remote(production) = &config.environments[2].target else { panic!("remote") };
        assert_eq!(production.api_base.as_str(), "https://core-manager.a55.tech/api/v1/");
        assert!(production.token_url.as_str().starts_with("https://smart-capital.auth.us-east-1.amazoncognito.com/"));
        let summary = summary(&config);
        assert!(!summary.contains("production-secret") && !summary.contains("sandbox-secret"), "{summary}");
    }

    #[test]
    fn no_file_and_no_env_gives_the_simulator_and_its_protected_production_twin() {
        let config = load(None, &FakeEnv::default()).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.environments.len(), 2);
        assert_eq!(config.environments[0].id, "simulator");
        assert!(matches!(config.environments[0].target, Target::Simulator));
        let production = &config.environments[1];
        assert_eq!((production.id.as_str(), production.kind), ("simulator-production", EnvironmentKind::Production));
        assert!(matches!(production.target, Target::SimulatorProduction));
        assert!(production.guard.confirm_writes, "production confirms writes by default");
        assert_eq!(config.environments[0].refresh_skew, Duration::from_secs(300));
    }

    #[test]
    fn a_complete_file_loads_with_secrets_from_env_and_file() {
        let secret_file = write_toml("file-secret\n");
        let file = write_toml(&format!(
            r#"
[server]
bind = "127.0.0.1:4000"
[environments.sandbox]
kind = "sandbox"
api_base = "https://sandbox.example.test/api/v1"
token_url = "https://auth.example.test/oauth2/token"
client_id = "abc"
client_secret_env = "SANDBOX_SECRET"
client_auth = "client_secret_basic"
[environments.production]
kind = "production"
api_base = "https://core-manager.a55.tech/api/v1/"
token_url = "https://smart-capital.auth.us-east-1.amazoncognito.com/oauth2/token"
client_id = "def"
client_secret_file = "{}"
"#,
            secret_file.0.display()
        ));
        let env = FakeEnv::default().with("SANDBOX_SECRET", "env-secret");
        let config = load(Some(&file.0), &env).unwrap();
        let ids: Vec<_> = config.environments.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["sandbox", "production"]);
        let Target::Remote(sandbox) = &config.environments[0].target else { panic!("remote") };
        assert_eq!(sandbox.api_base.as_str(), "https://sandbox.example.test/api/v1/");
        assert_eq!(sandbox.client_secret.expose_secret(), "env-secret");
        assert_eq!(config.environments[0].client_auth, ClientAuth::SecretBasic);
        let Target::Remote(production) = &config.environments[1].target else { panic!("remote") };
        assert_eq!(production.client_secret.expose_secret(), "file-secret");
    }

    #[test]
    fn every_problem_is_reported_at_once_with_what_to_fix() {
        let file = write_toml(
            r#"
[server]
bind = "nowhere"
[environments.prod]
kind = "production"
api_base = "http://core-manager.a55.tech/api/v1"
token_url = "not a url"
client_secret = "oops"
token_timeout_secs = 60
request_timeout_secs = 30
[environments.Bad]
kind = "staging"
"#,
        );
        let errors = load(Some(&file.0), &FakeEnv::default()).unwrap_err();
        let text = errors.to_string();
        for expected in [
            "server.bind",
            "environments.prod.api_base",
            "must use https",
            "environments.prod.token_url",
            "environments.prod.client_id is missing",
            "environments.prod.client_secret must not be written in configuration",
            "token_timeout_secs (60 s) must be shorter",
            "environment id \"Bad\"",
            "environments.Bad.kind = \"staging\"",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(!text.contains("oops"), "the misplaced secret must not be echoed");
        assert!(errors.0.len() >= 8, "{text}");
    }

    #[test]
    fn env_vars_override_the_file() {
        let file = write_toml("[server]\nbind = \"127.0.0.1:4000\"\n");
        let env = FakeEnv::default()
            .with("A55_CONSOLE__SERVER__BIND", "127.0.0.1:4100")
            .with("A55_CONSOLE__SIMULATOR__TOKEN_LIFETIME_SECS", "120");
        let config = load(Some(&file.0), &env).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:4100");
        assert_eq!(config.simulator.token_lifetime, Duration::from_secs(120));
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let file = write_toml("[server]\nbnid = \"127.0.0.1:4000\"\n");
        let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
        assert!(text.contains("bnid"), "{text}");
    }

    #[test]
    fn a_missing_secret_env_var_is_named() {
        let file = write_toml(
            "[environments.sandbox]\nkind = \"sandbox\"\napi_base = \"https://a.test/\"\ntoken_url = \"https://b.test/oauth2/token\"\nclient_id = \"x\"\nclient_secret_env = \"NOPE_SECRET\"\n",
        );
        let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
        assert!(text.contains("NOPE_SECRET, which is not set"), "{text}");
    }

    #[test]
    fn plain_http_is_accepted_on_loopback_only() {
        let mut problems = Vec::new();
        assert!(parse_service_url(Some("http://127.0.0.1:8080/api"), "k", &mut problems).is_some());
        assert!(parse_service_url(Some("http://localhost:8080/api"), "k", &mut problems).is_some());
        assert!(problems.is_empty());
        assert!(parse_service_url(Some("http://10.0.0.1/api"), "k", &mut problems).is_none());
        assert!(parse_service_url(Some("https://user:pw@a.test/"), "k", &mut problems).is_none());
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn debug_output_of_the_raw_file_hides_a_misplaced_secret_and_password_hashes() {
        let file = write_toml(
            "[[auth.users]]\nname = \"ana\"\npassword_hash = \"$argon2id$hash-text\"\nrole = \"admin\"\n[environments.prod]\nkind = \"production\"\nclient_secret = \"oops-secret\"\n",
        );
        let raw: RawConfig = Figment::from(Toml::file(&file.0)).extract().unwrap();
        let text = format!("{raw:?}");
        assert!(!text.contains("oops-secret") && !text.contains("hash-text"), "{text}");
        assert!(text.contains("ana"), "{text}");
    }

    #[test]
    fn debug_output_of_a_remote_target_hides_the_secret() {
        let target = RemoteTarget {
            api_base: Url::parse("https://a.test/").unwrap(),
            token_url: Url::parse("https://a.test/t").unwrap(),
            client_id: "id".into(),
            client_secret: SecretString::from("s3cr3t-value".to_owned()),
            client_secret_file: None,
        };
        let text = format!("{target:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn live_specs_extra_documents_and_history_retention_are_read_and_checked() {
        let file = write_toml(
            r#"
[catalog]
extra_documents = ["partner.yaml", ""]
[history]
max_entries = 0
max_age_days = 7
[environments.simulator]
kind = "simulator"
live_spec = true
[environments.other]
kind = "simulator"
live_spec = "../../etc/passwd"
"#,
        );
        let errors = load(Some(&file.0), &FakeEnv::default()).unwrap_err().0;
        let text = errors.join("\n");
        assert!(text.contains("catalog.extra_documents[1] is empty"), "{text}");
        assert!(text.contains("history.max_entries = 0 must be between 1 and 1000000"), "{text}");
        assert!(text.contains("environments.other.live_spec = \"../../etc/passwd\""), "{text}");
        assert_eq!(errors.len(), 3, "{text}");

        let file = write_toml(
            r#"
[catalog]
extra_documents = ["partner.yaml"]
[environments.simulator]
kind = "simulator"
live_spec = true
[environments.docs]
kind = "simulator"
live_spec = "docs/openapi.json"
[environments.off]
kind = "simulator"
live_spec = false
"#,
        );
        let config = load(Some(&file.0), &FakeEnv::default()).unwrap();
        assert_eq!(config.catalog_documents, vec![PathBuf::from("partner.yaml")]);
        assert_eq!(config.history.max_entries, 500);
        assert_eq!(config.history.max_age, Duration::from_secs(30 * 86_400));
        let spec = |id: &str| config.environments.iter().find(|e| e.id == id).unwrap().live_spec.clone();
        assert_eq!(spec("simulator").as_deref(), Some("swagger.json"));
        assert_eq!(spec("docs").as_deref(), Some("docs/openapi.json"));
        assert_eq!(spec("off"), None);
    }
}
