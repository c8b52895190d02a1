//! Environments: their validated shape and the checks that build it from `[environments.<id>]`.

use std::time::Duration;

use app::wire::EnvironmentKind;
use secrecy::SecretString;
use std::fmt;
use std::path::PathBuf;
use url::Url;

use super::raw::{RawEnvironment, RawLiveSpec};
use super::secrets::{read_secret, SecretSource};
use super::{EnvSource, DEFAULT_SPEC_PATH};

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

pub(super) fn validate_environment(
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
    let kind = environment_kind(raw.kind.as_deref(), &key, problems);
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
    let limits = limits(&raw, &key, problems);
    if let Some(scope) = &raw.scope {
        if scope.trim().is_empty() || scope.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            problems.push(format!("{} must be space-separated scope names (or left out)", key("scope")));
        }
    }
    let guard = guard_rails(&raw, kind, &key, problems);
    let live_spec = live_spec(raw.live_spec.as_ref(), &key, problems);
    let target = target(id, kind, &raw, env, &key, problems);
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
        refresh_skew: limits.refresh_skew,
        timeouts: limits.timeouts,
        max_response_bytes: limits.max_response_bytes,
        guard,
        live_spec,
    })
}

fn environment_kind(
    kind: Option<&str>,
    key: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> Option<EnvironmentKind> {
    match kind {
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
    }
}

/// Timeouts, the refresh skew and the response cap of one environment.
struct Limits {
    timeouts: Timeouts,
    refresh_skew: Duration,
    max_response_bytes: usize,
}

fn limits(raw: &RawEnvironment, key: &dyn Fn(&str) -> String, problems: &mut Vec<String>) -> Limits {
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
    // An answer larger than the body store cannot be shown to staff after it was applied upstream:
    // the cap may not exceed what the store holds.
    let most = crate::bodies::MAX_TOTAL_BYTES as u64;
    if !(1_024..=most).contains(&max_response_bytes) {
        problems.push(format!(
            "{} = {max_response_bytes} must be between 1024 and {most} (the most the console keeps of one answer)",
            key("max_response_bytes")
        ));
    }
    Limits { timeouts, refresh_skew, max_response_bytes: usize::try_from(max_response_bytes).unwrap_or(usize::MAX) }
}

fn guard_rails(
    raw: &RawEnvironment,
    kind: Option<EnvironmentKind>,
    key: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> GuardRails {
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
    GuardRails {
        read_only: raw.read_only.unwrap_or(false),
        allowed_methods,
        confirm_writes: raw.confirm_writes.unwrap_or(kind == Some(EnvironmentKind::Production)),
    }
}

fn live_spec(raw: Option<&RawLiveSpec>, key: &dyn Fn(&str) -> String, problems: &mut Vec<String>) -> Option<String> {
    match raw {
        None | Some(RawLiveSpec::Enabled(false)) => None,
        Some(RawLiveSpec::Enabled(true)) => Some(DEFAULT_SPEC_PATH.to_owned()),
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
    }
}

/// The built-in simulator (one of its data sets) or a remote API with its credentials.
fn target(
    id: &str,
    kind: Option<EnvironmentKind>,
    raw: &RawEnvironment,
    env: &dyn EnvSource,
    key: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> Option<Target> {
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
    match (kind, simulated) {
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
        (Some(_), None) => remote_target(id, raw, env, problems).map(|r| Target::Remote(Box::new(r))),
        (None, _) => None,
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
    let (env_key, file_key) = (key("client_secret_env"), key("client_secret_file"));
    let source = SecretSource {
        env_key: &env_key,
        env_var: raw.client_secret_env.as_deref(),
        file_key: &file_key,
        file: raw.client_secret_file.as_deref(),
    };
    let secret = read_secret(&source, env, problems);
    if raw.client_secret_env.is_none() && raw.client_secret_file.is_none() && raw.client_secret.is_none() {
        problems.push(format!(
            "no client secret for {id}: set {env_key} to the name of an env var holding it, or {file_key} to a file holding it"
        ));
    }
    Some(RemoteTarget {
        api_base: api_base?,
        token_url: token_url?,
        client_id: client_id?,
        client_secret: secret?,
        client_secret_file: raw.client_secret_file.clone(),
    })
}

/// An https URL, or http on loopback only (local test servers); no credentials, query or fragment.
pub(super) fn parse_service_url(value: Option<&str>, key: &str, problems: &mut Vec<String>) -> Option<Url> {
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
