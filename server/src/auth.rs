//! Staff access: accounts, sessions (tower-sessions on SQLite), login/logout, idle and absolute
//! timeouts, and the request gate that turns a session into a `Caller` for the server functions.
//!
//! Design: the tower-sessions record only holds the id of a `staff_logins` row. Ending that row
//! (logout, timeout) ends the session even if a request that was in flight during logout saves the
//! record again afterwards (tower-sessions' `save` is an upsert). Anonymous visitors get no record.

pub mod password;
pub mod store;
pub mod throttle;
pub mod web;

use std::net::SocketAddr;
use std::time::Duration;

use app::backend::{Caller, StaffBackend};
use app::wire::{AuditFilter, AuditRecord, ConsoleError, Role, StaffView};
use axum::extract::ConnectInfo;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use tower_sessions::Session;

use crate::audit::{AuditEvent, AuditLog};
use crate::clock::SharedClock;
use crate::config::{AuthSection, StaffAccount};

/// The session key holding the login id.
const LOGIN_KEY: &str = "login";
/// `last_seen_ms` is written at most this often per login.
const LAST_SEEN_GRANULARITY_MS: i64 = 1_000;
/// The name of the local-mode admin.
pub const LOCAL_ADMIN: &str = "local";

/// Irreversible short form of an id, for logs and audit rows (the id itself is never written out).
pub fn hashed(id: &str) -> String {
    hex::encode(&Sha256::digest(id.as_bytes())[..8])
}

/// Names typed at a failed login are recorded, so keep them short and printable.
fn printable_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

pub struct StaffAccess {
    pub auth: AuthSection,
    db: SqlitePool,
    clock: SharedClock,
    audit: AuditLog,
    throttle: throttle::LoginThrottle,
    /// What a Prometheus scraper presents on `/metrics` instead of a session.
    metrics_token: Option<SecretString>,
}

/// Why a session stopped being valid.
#[derive(Debug, PartialEq)]
pub enum SessionState {
    Valid(Box<Caller>),
    /// No session, unknown id, or ended by logout.
    None,
    Expired(&'static str),
}

impl StaffAccess {
    pub fn new(auth: AuthSection, db: SqlitePool, clock: SharedClock, audit: AuditLog) -> Self {
        let throttle = throttle::LoginThrottle::new(auth.max_failed_logins, auth.lockout, clock.clone());
        Self { auth, db, clock, audit, throttle, metrics_token: None }
    }

    pub fn with_metrics_token(mut self, token: Option<SecretString>) -> Self {
        self.metrics_token = token;
        self
    }

    /// Whether `/metrics` may take a scrape token at all.
    pub fn has_metrics_token(&self) -> bool {
        self.metrics_token.is_some()
    }

    /// Whether `presented` is the scrape token, compared in constant time.
    pub fn is_metrics_token(&self, presented: &str) -> bool {
        use secrecy::ExposeSecret as _;
        use subtle::ConstantTimeEq as _;
        self.metrics_token
            .as_ref()
            .is_some_and(|token| bool::from(token.expose_secret().as_bytes().ct_eq(presented.as_bytes())))
    }

    pub fn local_caller(address: Option<String>) -> Caller {
        Caller {
            name: LOCAL_ADMIN.into(),
            role: Role::Admin,
            environment_roles: Vec::new(),
            local: true,
            session: None,
            address,
        }
    }

    fn account(&self, name: &str) -> Option<&StaffAccount> {
        self.auth.users.iter().find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// Resolves the session of one request; expired logins are ended (and audited) here.
    pub async fn resolve(&self, session: &Session, address: Option<String>) -> Result<SessionState, ConsoleError> {
        let login_id: Option<String> = session
            .get(LOGIN_KEY)
            .await
            .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        let Some(login_id) = login_id else { return Ok(SessionState::None) };
        let row: Option<(String, i64, i64, Option<i64>)> =
            sqlx::query_as("SELECT staff, login_at_ms, last_seen_ms, ended_at_ms FROM staff_logins WHERE login_id = ?")
                .bind(&login_id)
                .fetch_optional(&self.db)
                .await
                .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        let Some((staff, login_at, last_seen, ended)) = row else { return Ok(SessionState::None) };
        if ended.is_some() {
            return Ok(SessionState::None);
        }
        let now = self.clock.wall_ms();
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let reason = if now.saturating_sub(login_at) >= ms(self.auth.absolute_timeout) {
            Some("absolute_timeout")
        } else if now.saturating_sub(last_seen) >= ms(self.auth.idle_timeout) {
            Some("idle_timeout")
        } else {
            None
        };
        if let Some(reason) = reason {
            self.end_login(&login_id, reason).await;
            self.audit.record(AuditEvent {
                actor: staff,
                event: "session_expired",
                outcome: "ok",
                detail: Some(reason.replace('_', " ")),
                address,
                session: Some(hashed(&login_id)),
                ..AuditEvent::default()
            });
            // Deletes the record; the response clears the cookie.
            let _ = session.flush().await;
            return Ok(SessionState::Expired(reason));
        }
        let Some(account) = self.account(&staff) else {
            // The account was removed from config since this login.
            self.end_login(&login_id, "account_removed").await;
            return Ok(SessionState::None);
        };
        // A busy session would otherwise write this row on every request (a SQLite write on the hot
        // path); idle timeouts are minutes, so "last seen" to the second is exact enough.
        if now.saturating_sub(last_seen) >= LAST_SEEN_GRANULARITY_MS {
            let _turn = crate::db::write_turn().await;
            sqlx::query("UPDATE staff_logins SET last_seen_ms = ? WHERE login_id = ? AND ended_at_ms IS NULL")
                .bind(now)
                .bind(&login_id)
                .execute(&self.db)
                .await
                .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        }
        Ok(SessionState::Valid(Box::new(Caller {
            name: account.name.clone(),
            role: account.role,
            environment_roles: account.environment_roles.clone(),
            local: false,
            session: Some(hashed(&login_id)),
            address,
        })))
    }

    async fn end_login(&self, login_id: &str, reason: &str) {
        if let Err(error) = sqlx::query(
            "UPDATE staff_logins SET ended_at_ms = ?, end_reason = ? WHERE login_id = ? AND ended_at_ms IS NULL",
        )
        .bind(self.clock.wall_ms())
        .bind(reason)
        .bind(login_id)
        .execute(&self.db)
        .await
        {
            tracing::error!(%error, login = %hashed(login_id), "could not end a login");
        }
    }

    async fn do_login(
        &self,
        session: &Session,
        address: Option<String>,
        name: &str,
        password: &str,
    ) -> Result<StaffView, ConsoleError> {
        let shown = printable_name(name);
        let mut keys = vec![format!("account:{}", shown.to_lowercase())];
        if let Some(address) = &address {
            keys.push(format!("address:{address}"));
        }
        if let Some(wait) = self.throttle.blocked(&keys) {
            self.audit.record(AuditEvent {
                actor: shown,
                event: "login_failed",
                outcome: "refused",
                detail: Some("too many failed logins".into()),
                address,
                ..AuditEvent::default()
            });
            return Err(ConsoleError::RateLimited(format!(
                "too many failed logins: try again in {} minute(s)",
                wait.as_secs().div_ceil(60).max(1)
            )));
        }
        let account = self.account(name);
        // Unknown names are checked against a dummy hash so both failures take the same time.
        let hash = account.map_or(password::dummy_hash(), |a| a.password_hash.as_str()).to_owned();
        let candidate = password.to_owned();
        let verified = password::verify_capped(candidate, hash).await;
        let Some(account) = account.filter(|_| verified) else {
            self.throttle.record_failure(&keys);
            tracing::warn!(name = %shown, address = address.as_deref().unwrap_or("-"), "failed login");
            self.audit.record(AuditEvent {
                actor: shown,
                event: "login_failed",
                outcome: "failed",
                detail: Some("wrong name or password".into()),
                address,
                ..AuditEvent::default()
            });
            return Err(ConsoleError::Unauthenticated("wrong name or password".into()));
        };
        self.throttle.clear(&keys[0]);

        // A login inside an existing session ends the previous login first.
        if let Ok(Some(previous)) = session.get::<String>(LOGIN_KEY).await {
            self.end_login(&previous, "replaced_by_login").await;
        }
        // A new id: an id planted before login (fixation) stops working, its record is deleted.
        session
            .cycle_id()
            .await
            .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        let login_id = hex::encode(rand::random::<[u8; 32]>());
        let now = self.clock.wall_ms();
        sqlx::query("INSERT INTO staff_logins (login_id, staff, login_at_ms, last_seen_ms) VALUES (?, ?, ?, ?)")
            .bind(&login_id)
            .bind(&account.name)
            .bind(now)
            .bind(now)
            .execute(&self.db)
            .await
            .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        session
            .insert(LOGIN_KEY, &login_id)
            .await
            .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        tracing::info!(staff = %account.name, login = %hashed(&login_id), "login");
        self.audit.record(AuditEvent {
            actor: account.name.clone(),
            event: "login",
            outcome: "ok",
            address,
            session: Some(hashed(&login_id)),
            ..AuditEvent::default()
        });
        Ok(StaffView { name: account.name.clone(), role: account.role, local: false })
    }

    async fn do_logout(&self, session: &Session, address: Option<String>) -> Result<(), ConsoleError> {
        if let Ok(Some(login_id)) = session.get::<String>(LOGIN_KEY).await {
            let staff: Option<String> = sqlx::query_scalar("SELECT staff FROM staff_logins WHERE login_id = ?")
                .bind(&login_id)
                .fetch_optional(&self.db)
                .await
                .ok()
                .flatten();
            self.end_login(&login_id, "logout").await;
            tracing::info!(staff = staff.as_deref().unwrap_or("-"), login = %hashed(&login_id), "logout");
            self.audit.record(AuditEvent {
                actor: staff.unwrap_or_default(),
                event: "logout",
                outcome: "ok",
                address,
                session: Some(hashed(&login_id)),
                ..AuditEvent::default()
            });
        }
        session.flush().await.map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))
    }
}

/// The session and client address of the server function's request.
fn request_session() -> Result<(Session, Option<String>), ConsoleError> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()
        .ok_or_else(|| ConsoleError::Internal("no request context".into()))?;
    let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| ConsoleError::Internal("sessions are not configured".into()))?;
    Ok((session, address))
}

#[async_trait::async_trait]
impl StaffBackend for StaffAccess {
    async fn login(&self, name: String, password: String) -> Result<StaffView, ConsoleError> {
        if self.auth.local_mode() {
            return Err(ConsoleError::InvalidRequest(
                "this console runs in local mode (no staff accounts configured): there is nothing to log in to".into(),
            ));
        }
        let (session, address) = request_session()?;
        self.do_login(&session, address, &name, &password).await
    }

    async fn logout(&self) -> Result<(), ConsoleError> {
        if self.auth.local_mode() {
            return Ok(());
        }
        let (session, address) = request_session()?;
        self.do_logout(&session, address).await
    }

    async fn audit(&self, caller: &Caller, filter: AuditFilter) -> Result<Vec<AuditRecord>, ConsoleError> {
        if caller.role != Role::Admin {
            return Err(ConsoleError::Forbidden("the audit trail is for admins".into()));
        }
        crate::audit::query(&self.db, &filter)
            .await
            .map_err(|e| ConsoleError::Internal(format!("audit query failed: {e}")))
    }
}
