//! `[sessions]`: where staff sessions live — the SQLite file (default) or Redis/Valkey shared by
//! every replica, which then also holds the state replicas share (stored bodies, the reveal vault)
//! — and the validation of the Redis address, password and vault key sources and timeouts.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::secrets::{read_secret, SecretSource};
use super::validate::EnvSource;

/// The file shape of `[sessions]`. Without `redis_url`, sessions stay in the SQLite file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSessions {
    /// `redis://host:6379/0`, or `rediss://…` for TLS: sessions in Redis or Valkey (6.2 or later),
    /// shared by every replica. A user name may be in the URL; the password never is.
    pub redis_url: Option<String>,
    /// The Redis password: the name of an env var holding it, or a file holding only it.
    pub redis_password_env: Option<String>,
    pub redis_password_file: Option<PathBuf>,
    /// The reveal vault's encryption key (32 bytes, base64 or hex) when it lives in Redis: the name
    /// of an env var holding it, or a file holding only it. Without one, masked values are not
    /// kept for reveals on a console using Redis.
    pub vault_key_env: Option<String>,
    pub vault_key_file: Option<PathBuf>,
    /// Put before every key (`<prefix>session:<id>`), so consoles can share one Redis database.
    pub key_prefix: String,
    /// Connecting (and each reconnection attempt) gives up after this long.
    pub connect_timeout_ms: u64,
    /// One command gives up after this long; the request then answers 503.
    pub command_timeout_ms: u64,
    /// The key that encrypts what the console keeps in Redis besides sessions (shared access
    /// tokens): the name of an env var holding it, or a file holding only it. 32 bytes, as base64 or
    /// 64 hex digits. Without it the token cache stays per replica.
    pub state_key_env: Option<String>,
    pub state_key_file: Option<PathBuf>,
}

/// A password wrongly written into `redis_url` is refused by validation, and never shown here.
impl fmt::Debug for RawSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.redis_url.as_deref().map(|value| match Url::parse(value) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("[redacted]"));
                }
                url.to_string()
            }
            Err(_) => "[not a URL]".to_owned(),
        });
        f.debug_struct("RawSessions")
            .field("redis_url", &url)
            .field("redis_password_env", &self.redis_password_env)
            .field("redis_password_file", &self.redis_password_file)
            .field("vault_key_env", &self.vault_key_env)
            .field("vault_key_file", &self.vault_key_file)
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("command_timeout_ms", &self.command_timeout_ms)
            .field("state_key_env", &self.state_key_env)
            .field("state_key_file", &self.state_key_file)
            .finish()
    }
}

impl Default for RawSessions {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_password_env: None,
            redis_password_file: None,
            vault_key_env: None,
            vault_key_file: None,
            key_prefix: "a55-console:".into(),
            connect_timeout_ms: 2_000,
            command_timeout_ms: 1_000,
            state_key_env: None,
            state_key_file: None,
        }
    }
}

/// Validated Redis session settings. `Debug` never shows the password.
#[derive(Clone)]
pub struct RedisSessions {
    /// The server's address, without a password (validation refuses one).
    pub url: Url,
    pub password: Option<SecretString>,
    /// The reveal vault's AES-256-GCM key, decoded and checked at start-up.
    pub vault_key: Option<VaultKey>,
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
}

impl RedisSessions {
    /// `host:port` only, for messages: never the user name, password or database.
    pub fn host(&self) -> String {
        match (self.url.host_str(), self.url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => format!("{host}:6379"),
            _ => "(no host)".into(),
        }
    }
}

impl fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessions")
            .field("url", &self.url.as_str())
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("vault_key", &self.vault_key.as_ref().map(|_| "[redacted]"))
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .finish()
    }
}

/// `None` without `redis_url` (sessions in SQLite) or with problems, which are added to `problems`.
pub(super) fn validate_sessions(
    raw: &RawSessions,
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> Option<RedisSessions> {
    let source = SecretSource {
        env_key: "sessions.redis_password_env",
        env_var: raw.redis_password_env.as_deref(),
        file_key: "sessions.redis_password_file",
        file: raw.redis_password_file.as_deref(),
    };
    let Some(value) = raw.redis_url.as_deref() else {
        if raw.redis_password_env.is_some() || raw.redis_password_file.is_some() {
            problems.push("sessions.redis_password_env/_file is set without sessions.redis_url".into());
        }
        if raw.vault_key_env.is_some() || raw.vault_key_file.is_some() {
            problems.push(
                "sessions.vault_key_env/_file is set without sessions.redis_url (the in-process vault needs no key)"
                    .into(),
            );
        }
        return None;
    };
    let before = problems.len();
    let url = redis_url(value, problems);
    let password = read_secret(&source, env, problems);
    let key_source = SecretSource {
        env_key: "sessions.vault_key_env",
        env_var: raw.vault_key_env.as_deref(),
        file_key: "sessions.vault_key_file",
        file: raw.vault_key_file.as_deref(),
    };
    let vault_key = read_secret(&key_source, env, problems).and_then(|text| vault_key(&text, problems));
    let prefix = raw.key_prefix.as_str();
    if prefix.len() > 64 || prefix.chars().any(|c| c.is_control() || c.is_whitespace()) {
        problems.push(format!("sessions.key_prefix = {prefix:?} must be at most 64 characters without spaces"));
    }
    for (key, value) in [("connect_timeout_ms", raw.connect_timeout_ms), ("command_timeout_ms", raw.command_timeout_ms)]
    {
        if !(10..=60_000).contains(&value) {
            problems.push(format!("sessions.{key} = {value} must be between 10 and 60000 milliseconds"));
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(RedisSessions {
        url: url?,
        password,
        vault_key,
        key_prefix: raw.key_prefix.clone(),
        connect_timeout: Duration::from_millis(raw.connect_timeout_ms),
        command_timeout: Duration::from_millis(raw.command_timeout_ms),
    })
}

/// The vault key: 32 bytes written as base64 (standard or URL-safe, padded or not) or 64 hex
/// digits. The problem says what is wrong, never any of the value.
fn vault_key(text: &SecretString, problems: &mut Vec<String>) -> Option<VaultKey> {
    decode_key(text, "the vault key (sessions.vault_key_env/_file)", problems).map(VaultKey::from_bytes)
}

/// 32 bytes of an AES-256-GCM key from base64 (standard or URL-safe, padded or not) or 64 hex
/// digits; `what` names the setting in the problem, which never repeats any of the value.
fn decode_key(text: &SecretString, what: &str, problems: &mut Vec<String>) -> Option<[u8; 32]> {
    use base64::Engine as _;
    use secrecy::ExposeSecret as _;
    let text = text.expose_secret();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()
    } else {
        engines.iter().find_map(|engine| engine.decode(text).ok())
    };
    match decoded.map(<[u8; 32]>::try_from) {
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(wrong)) => {
            problems.push(format!(
                "{what} must be 32 bytes; it decodes to {} bytes (make one with: openssl rand -base64 32)",
                wrong.len()
            ));
            None
        }
        None => {
            problems
                .push(format!("{what} is neither base64 nor 64 hex digits (make one with: openssl rand -base64 32)"));
            None
        }
    }
}

/// 32 key bytes for AES-256-GCM. Never printed: `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AeadKey(Arc<[u8; 32]>);

/// The key that seals reveal-vault values in Redis.
pub type VaultKey = AeadKey;
/// The key that encrypts the access tokens replicas share in Redis. Kept apart from the vault key
/// so either can be rotated (or withheld) on its own.
pub type StateKey = AeadKey;

impl AeadKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Arc::new(bytes))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AeadKey([redacted])")
    }
}

/// `[sessions] state_key_env` / `state_key_file`: `None` when neither is set or with a problem. The
/// value is never repeated in a problem.
pub(super) fn validate_state_key(
    raw: &RawSessions,
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> Option<StateKey> {
    let source = SecretSource {
        env_key: "sessions.state_key_env",
        env_var: raw.state_key_env.as_deref(),
        file_key: "sessions.state_key_file",
        file: raw.state_key_file.as_deref(),
    };
    let text = read_secret(&source, env, problems)?;
    decode_key(&text, "the state key (sessions.state_key_env/_file)", problems).map(StateKey::from_bytes)
}

/// `redis://` or `rediss://` with a host and no password. The value is never repeated in a
/// problem, since it may hold the very password that must not be there.
fn redis_url(value: &str, problems: &mut Vec<String>) -> Option<Url> {
    let Ok(url) = Url::parse(value) else {
        problems.push("sessions.redis_url is not a URL such as redis://redis.internal:6379/0".into());
        return None;
    };
    if url.password().is_some() {
        problems.push(
            "sessions.redis_url must not carry a password: set sessions.redis_password_env (the name of an env var) \
             or sessions.redis_password_file (a file holding only the password)"
                .into(),
        );
        return None;
    }
    if !matches!(url.scheme(), "redis" | "rediss") || url.host_str().is_none_or(str::is_empty) {
        problems.push(format!(
            "sessions.redis_url must be redis://host[:port][/db] or rediss://… (TLS), not a {}: URL",
            url.scheme()
        ));
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() {
        problems.push("sessions.redis_url takes no query or fragment (timeouts are sessions.*_timeout_ms)".into());
        return None;
    }
    Some(url)
}
