//! Layered configuration (defaults → `console.toml` → `A55_CONSOLE__*` env vars), validated at start-up.
//!
//! Validation collects *every* problem before failing, each with what to fix, so an operator fixes a
//! file in one pass. Client secrets never live in the file: only the name of an env var or a file path.

mod auth;
mod environments;
mod oidc;
mod parity;
mod raw;
mod secrets;
mod sessions;
mod storage;
mod summary;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

pub use auth::{AuthSection, StaffAccount};
pub use environments::{ClientAuth, Environment, GuardRails, RemoteTarget, Target, Timeouts};
pub use oidc::{OidcSettings, ResolvedRoles, RoleMapping};
pub use parity::{ParitySettings, RawOverrides, RawParity, RawSuite, RawSuiteCompare};
pub use raw::*;
pub use sessions::{RawSessions, RedisSessions, StateKey, VaultKey};
pub use storage::{PostgresStorage, RawStorage, Storage};
pub use summary::summary;
pub use validate::{load, validate, ConfigErrors, EnvSource, ProcessEnv};

/// Prefix of environment variables that override the file, with `__` separating nested keys:
/// `A55_CONSOLE__SERVER__BIND=127.0.0.1:4000`, `A55_CONSOLE__ENVIRONMENTS__SANDBOX__CLIENT_ID=…`.
pub const ENV_PREFIX: &str = "A55_CONSOLE__";

/// Where an environment's live OpenAPI document is, under its API base, with `live_spec = true`.
pub const DEFAULT_SPEC_PATH: &str = "swagger.json";

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
    /// The scrape credential for `/metrics`, when configured (see `metrics_token`).
    pub metrics_token: Option<SecretString>,
    pub bind: SocketAddr,
    /// Origin staff use, when configured (scheme, host and port only).
    pub public_url: Option<Url>,
    pub auth: AuthSection,
    /// `[storage]`: the SQLite file, or PostgreSQL shared by every replica.
    pub storage: Storage,
    /// `[sessions]` with a Redis URL: sessions shared by every replica. `None`: in the SQLite file.
    pub redis_sessions: Option<RedisSessions>,
    /// `[sessions] state_key_env`/`_file`: encrypts shared state in Redis (the shared token cache is
    /// on only with Redis and this key).
    pub state_key: Option<StateKey>,
    /// Extra OpenAPI documents for the catalog, in order.
    pub catalog_documents: Vec<PathBuf>,
    pub history: HistoryRetention,
    pub masking: crate::masking::MaskingSettings,
    pub simulator: SimulatorSection,
    pub environments: Vec<Environment>,
    /// `[parity]`: suites, the request budget per environment, runs kept.
    pub parity: ParitySettings,
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

impl HistoryRetention {
    /// The time (Unix ms) before which a run, at `now_ms`, is past the age bound.
    pub fn oldest_kept(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(i64::try_from(self.max_age.as_millis()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests;
