//! `[parity]`: the request budget per environment, how many runs are kept, and the suites written
//! in configuration (`[[parity.suites]]`), checked into compare requests at start-up.

use std::collections::BTreeMap;

use app::wire::{CompareRequest, DiffOptions, ExecuteRequest, ParityCompare, ParitySuite, SuiteSource};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawParity {
    /// Requests a suite run may send to one environment per minute (all runs together).
    pub requests_per_minute: u32,
    /// Per-environment budgets that replace `requests_per_minute`, by environment id.
    pub environment_limits: BTreeMap<String, u32>,
    /// Runs kept per suite; older ones are deleted.
    pub runs_kept: u32,
    /// Runs older than this are deleted too.
    pub runs_max_age_days: u32,
    /// Where the webhook's URL is (it usually holds a token, so never in this file): the name of an
    /// env var, or a file holding only the URL. A run with new drift is posted there.
    pub webhook_url_env: Option<String>,
    pub webhook_url_file: Option<std::path::PathBuf>,
    pub suites: Vec<RawSuite>,
}

impl Default for RawParity {
    fn default() -> Self {
        Self {
            requests_per_minute: 60,
            environment_limits: BTreeMap::new(),
            runs_kept: 50,
            runs_max_age_days: 90,
            webhook_url_env: None,
            webhook_url_file: None,
            suites: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSuite {
    pub name: String,
    /// Environment ids of the two sides.
    pub left: String,
    pub right: String,
    /// Run on a schedule: every this many minutes (not scheduled when left out).
    pub interval_mins: Option<u64>,
    /// Each scheduled start moves by a random 0..=jitter_secs.
    pub jitter_secs: u64,
    pub compares: Vec<RawSuiteCompare>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSuiteCompare {
    pub name: String,
    /// GET when left out; only GET, HEAD and OPTIONS are accepted.
    pub method: Option<String>,
    pub path: String,
    pub endpoint_id: Option<String>,
    pub path_params: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    /// Values that replace (or add to) the shared ones on one side only.
    pub left_overrides: RawOverrides,
    pub right_overrides: RawOverrides,
    pub shape_only: bool,
    pub array_key: Option<String>,
    /// JSONPath ignore rules; the Compare page's defaults when left out.
    pub ignore: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOverrides {
    pub path_params: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
}

/// The validated `[parity]` section.
#[derive(Clone, Debug)]
pub struct ParitySettings {
    pub requests_per_minute: u32,
    pub environment_limits: BTreeMap<String, u32>,
    pub runs_kept: u32,
    pub runs_max_age: std::time::Duration,
    pub suites: Vec<ParitySuite>,
    /// Slack-compatible webhook for runs with new drift (a secret: it usually carries a token).
    pub webhook: Option<secrecy::SecretString>,
}

impl Default for ParitySettings {
    fn default() -> Self {
        let raw = RawParity::default();
        Self {
            requests_per_minute: raw.requests_per_minute,
            environment_limits: raw.environment_limits,
            runs_kept: raw.runs_kept,
            runs_max_age: std::time::Duration::from_secs(u64::from(raw.runs_max_age_days) * 86_400),
            suites: Vec::new(),
            webhook: None,
        }
    }
}

const MAX_PER_MINUTE: u32 = 100_000;

/// Checks the section against the configured environment ids; every problem names its key.
pub fn validate_parity(
    raw: RawParity,
    environments: &[&str],
    env: &dyn super::EnvSource,
    problems: &mut Vec<String>,
) -> ParitySettings {
    let source = super::secrets::SecretSource {
        env_key: "parity.webhook_url_env",
        env_var: raw.webhook_url_env.as_deref(),
        file_key: "parity.webhook_url_file",
        file: raw.webhook_url_file.as_deref(),
    };
    let webhook = super::secrets::read_secret(&source, env, problems).filter(|url| {
        use secrecy::ExposeSecret as _;
        // The problem never quotes the URL: it is a credential.
        let problem = webhook_problem(url.expose_secret());
        if let Some(problem) = &problem {
            problems.push(format!("the parity webhook URL (parity.webhook_url_env / _file) {problem}"));
        }
        problem.is_none()
    });
    if !(1..=MAX_PER_MINUTE).contains(&raw.requests_per_minute) {
        problems.push(format!(
            "parity.requests_per_minute = {} must be between 1 and {MAX_PER_MINUTE}",
            raw.requests_per_minute
        ));
    }
    for (id, limit) in &raw.environment_limits {
        if !environments.contains(&id.as_str()) {
            problems.push(format!("parity.environment_limits names environment {id:?}, which is not configured"));
        }
        if !(1..=MAX_PER_MINUTE).contains(limit) {
            problems.push(format!("parity.environment_limits.{id} = {limit} must be between 1 and {MAX_PER_MINUTE}"));
        }
    }
    if !(1..=10_000).contains(&raw.runs_kept) {
        problems.push(format!("parity.runs_kept = {} must be between 1 and 10000", raw.runs_kept));
    }
    if !(1..=3650).contains(&raw.runs_max_age_days) {
        problems.push(format!("parity.runs_max_age_days = {} must be between 1 and 3650", raw.runs_max_age_days));
    }
    let mut suites: Vec<ParitySuite> = Vec::new();
    for (index, suite) in raw.suites.into_iter().enumerate() {
        let key = format!("parity.suites[{index}]");
        let name = suite.name.trim().to_owned();
        if let Err(problem) = crate::parity::suites::check_name("suite", &name) {
            problems.push(format!("{key}.name: {problem}"));
            continue;
        }
        if suites.iter().any(|s| s.name == name) {
            problems.push(format!("{key}: a suite named {name:?} is already configured; suite names are unique"));
            continue;
        }
        for (side, id) in [("left", &suite.left), ("right", &suite.right)] {
            if !environments.contains(&id.as_str()) {
                problems.push(format!(
                    "{key}.{side} = {id:?} (suite {name:?}) is not a configured environment; use one of {}",
                    environments.join(", ")
                ));
            }
        }
        if suite.compares.is_empty() {
            problems.push(format!("{key} (suite {name:?}) has no compares: add [[parity.suites.compares]] entries"));
        }
        let mut compares = Vec::new();
        for (position, raw_compare) in suite.compares.into_iter().enumerate() {
            let compare = compare_request(&suite.left, &suite.right, raw_compare);
            match crate::parity::suites::check_compare(&name, &compare) {
                Ok(()) if compares.iter().any(|c: &ParityCompare| c.name == compare.name) => problems.push(format!(
                    "{key}.compares[{position}]: suite {name:?} already has a compare named {:?}",
                    compare.name
                )),
                Ok(()) => compares.push(compare),
                Err(problem) => problems.push(format!("{key}.compares[{position}]: {problem}")),
            }
        }
        let schedule = suite.interval_mins.and_then(|mins| {
            let (interval, jitter) =
                (format!("{key}.interval_mins (suite {name:?})"), format!("{key}.jitter_secs (suite {name:?})"));
            crate::parity::suites::check_schedule(mins, suite.jitter_secs, &interval, &jitter)
                .map_err(|problem| problems.push(problem))
                .ok()
        });
        suites.push(ParitySuite { name, source: SuiteSource::Config, compares, schedule });
    }
    ParitySettings {
        requests_per_minute: raw.requests_per_minute,
        environment_limits: raw.environment_limits,
        runs_kept: raw.runs_kept,
        runs_max_age: std::time::Duration::from_secs(u64::from(raw.runs_max_age_days) * 86_400),
        suites,
        webhook,
    }
}

/// What is wrong with a webhook URL, without repeating it: https anywhere, http on loopback only.
fn webhook_problem(url: &str) -> Option<&'static str> {
    let Ok(url) = url::Url::parse(url) else {
        return Some("is not a URL such as https://hooks.slack.com/services/…");
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => return Some("has no host"),
    };
    match url.scheme() {
        "https" => None,
        "http" if loopback => None,
        "http" => Some("must be https (plain http only to a loopback address)"),
        _ => Some("must be an https:// URL"),
    }
}

/// The shared request with each side's overrides applied, as the Compare page builds it.
fn compare_request(left: &str, right: &str, raw: RawSuiteCompare) -> ParityCompare {
    let pairs = |shared: &BTreeMap<String, String>, over: &BTreeMap<String, String>| {
        let mut merged = shared.clone();
        merged.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.into_iter().collect::<Vec<_>>()
    };
    let side = |environment: &str, over: &RawOverrides| ExecuteRequest {
        environment: environment.to_owned(),
        method: raw.method.clone().unwrap_or_else(|| "GET".into()).trim().to_ascii_uppercase(),
        path: raw.path.trim().to_owned(),
        path_params: pairs(&raw.path_params, &over.path_params),
        query: pairs(&raw.query, &over.query),
        headers: pairs(&raw.headers, &over.headers),
        body: None,
        endpoint_id: raw.endpoint_id.clone(),
        confirm: None,
    };
    let options = DiffOptions {
        shape_only: raw.shape_only,
        array_key: raw.array_key.clone(),
        ignore: raw.ignore.clone().unwrap_or_else(|| DiffOptions::defaults().ignore),
    };
    ParityCompare {
        name: raw.name.trim().to_owned(),
        request: CompareRequest {
            left: side(left, &raw.left_overrides),
            right: side(right, &raw.right_overrides),
            options,
        },
    }
}
