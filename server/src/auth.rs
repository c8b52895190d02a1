//! Staff access: accounts, sessions (tower-sessions on SQLite or Redis), login/logout, idle and absolute
//! timeouts, and the request gate that turns a session into a `Caller` for the server functions.
//!
//! Design: the tower-sessions record only holds the id of a `staff_logins` row. Ending that row
//! (logout, timeout) ends the session even if a request that was in flight during logout saves the
//! record again afterwards (tower-sessions' `save` is an upsert). Anonymous visitors get no record.

pub mod oidc;
pub mod password;
pub mod redis_store;
pub mod session_cache;
pub mod store;
pub mod throttle;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::backend::{Caller, StaffBackend};
use app::wire::{AuditFilter, AuditRecord, ConsoleError, LoginOptions, ProviderSignIn, Role, StaffView};
use axum::extract::ConnectInfo;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use crate::audit::{AuditEvent, AuditLog};
use crate::clock::SharedClock;
use crate::config::{AuthSection, ResolvedRoles, StaffAccount};
use crate::db::Database;
use crate::on_engine;

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
    db: Database,
    clock: SharedClock,
    audit: AuditLog,
    throttle: throttle::LoginThrottle,
    /// What a Prometheus scraper presents on `/metrics` instead of a session.
    metrics_token: Option<SecretString>,
    /// The company's identity provider, when `[auth.oidc]` is configured.
    oidc: Option<Arc<oidc::OidcProvider>>,
    /// Open logins as last read or written, so a busy session is not a database read per request.
    logins: LoginCache,
}

/// Open `staff_logins` rows by login id, kept by this process. Every way a login ends goes through
/// `StaffAccess::end_login`, which drops the entry, and this process is the only writer of
/// `last_seen_ms`, so a kept row is the database's row. Roles of local accounts are still read from
/// configuration on every request. With several replicas sharing one database the same caveat as
/// `session_cache` holds: a logout on another replica is not seen here, so with sessions in Redis
/// start-up turns this cache off (`StaffAccess::without_login_cache`).
struct LoginCache(Option<std::sync::Mutex<session_cache::Bounded<String, LoginRow>>>);

impl LoginCache {
    fn new(capacity: usize) -> Self {
        Self(Some(std::sync::Mutex::new(session_cache::Bounded::new(capacity))))
    }

    fn with<R>(&self, f: impl FnOnce(&mut session_cache::Bounded<String, LoginRow>) -> R) -> Option<R> {
        let map = self.0.as_ref()?;
        Some(f(&mut map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)))
    }

    fn get(&self, login_id: &str) -> Option<LoginRow> {
        self.with(|map| map.get(login_id).cloned()).flatten()
    }

    fn epoch(&self) -> u64 {
        self.with(|map| map.epoch()).unwrap_or(0)
    }

    /// Keeps an open row read from the database, unless an entry changed since `epoch` (a login
    /// may have ended while the row was read).
    fn keep(&self, login_id: &str, row: &LoginRow, epoch: u64) {
        self.with(|map| {
            if map.epoch() == epoch && row.3.is_none() {
                map.insert(login_id.to_owned(), row.clone());
            }
        });
    }

    fn seen(&self, login_id: &str, at: i64) {
        self.with(|map| {
            if let Some(row) = map.get_mut(login_id) {
                row.2 = at;
            }
        });
    }

    fn forget(&self, login_id: &str) {
        self.with(|map| map.remove(login_id));
    }
}

/// Who vouched for a login, and what they vouched for.
enum Vouched<'a> {
    /// A local account: its role is read from configuration on every request.
    Password(&'a StaffAccount),
    /// The identity provider: the role its groups gave at sign-in.
    Provider(&'a oidc::Identity),
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
    pub fn new(auth: AuthSection, db: Database, clock: SharedClock, audit: AuditLog) -> Self {
        let throttle = throttle::LoginThrottle::new(auth.max_failed_logins, auth.lockout, clock.clone());
        let logins = LoginCache::new(session_cache::DEFAULT_CAPACITY);
        Self { auth, db, clock, audit, throttle, metrics_token: None, oidc: None, logins }
    }

    /// Reads every login from the database on every request: for replicas sharing one database
    /// (see `LoginCache`).
    pub fn without_login_cache(mut self) -> Self {
        self.logins = LoginCache(None);
        self
    }

    /// Failed logins counted in Redis, so every replica sees the same lockout.
    pub fn with_shared_throttle(
        mut self,
        connection: redis::aio::ConnectionManager,
        prefix: &str,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        self.throttle = throttle::LoginThrottle::in_redis(
            self.auth.max_failed_logins,
            self.auth.lockout,
            connection,
            prefix,
            metrics,
        );
        self
    }

    pub fn with_oidc(mut self, provider: Option<Arc<oidc::OidcProvider>>) -> Self {
        self.oidc = provider;
        self
    }

    pub fn oidc(&self) -> Option<&oidc::OidcProvider> {
        self.oidc.as_deref()
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
            demo: None,
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
        let row = match self.logins.get(&login_id) {
            Some(row) => Some(row),
            None => self.read_login(&login_id).await?,
        };
        let Some((staff, login_at, last_seen, ended, source, stored_role, stored_environments)) = row else {
            return Ok(SessionState::None);
        };
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
            self.audit
                .record(AuditEvent {
                    actor: staff,
                    event: "session_expired",
                    outcome: "ok",
                    detail: Some(reason.replace('_', " ")),
                    address,
                    session: Some(hashed(&login_id)),
                    ..AuditEvent::default()
                })
                .await;
            // Deletes the record; the response clears the cookie.
            let _ = session.flush().await;
            return Ok(SessionState::Expired(reason));
        }
        let roles = if source == "oidc" {
            stored_roles(stored_role.as_deref(), stored_environments.as_deref()).map(|(r, e)| (staff.clone(), r, e))
        } else {
            self.account(&staff).map(|a| (a.name.clone(), a.role, a.environment_roles.clone()))
        };
        let Some((name, role, environment_roles)) = roles else {
            // The account was removed from config since this login (or the row is unreadable).
            self.end_login(&login_id, "account_removed").await;
            return Ok(SessionState::None);
        };
        // A busy session would otherwise write this row on every request (a SQLite write on the hot
        // path); idle timeouts are minutes, so "last seen" to the second is exact enough.
        if now.saturating_sub(last_seen) >= LAST_SEEN_GRANULARITY_MS {
            let _turn = self.db.write_turn().await;
            on_engine!(&self.db, pool => sqlx::query(
                "UPDATE staff_logins SET last_seen_ms = $1 WHERE login_id = $2 AND ended_at_ms IS NULL",
            )
            .bind(now)
            .bind(&login_id)
            .execute(pool)
            .await
            .map(|_| ()))
            .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
            self.logins.seen(&login_id, now);
        }
        Ok(SessionState::Valid(Box::new(Caller {
            name,
            role,
            environment_roles,
            local: false,
            session: Some(hashed(&login_id)),
            address,
            demo: None,
        })))
    }

    /// The login's row from the database, kept in the login cache while it is open.
    async fn read_login(&self, login_id: &str) -> Result<Option<LoginRow>, ConsoleError> {
        let epoch = self.logins.epoch();
        let row: Option<LoginRow> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT staff, login_at_ms, last_seen_ms, ended_at_ms, source, role, environment_roles \
             FROM staff_logins WHERE login_id = $1",
        )
        .bind(login_id)
        .fetch_optional(pool)
        .await)
        .map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))?;
        if let Some(row) = &row {
            self.logins.keep(login_id, row, epoch);
        }
        Ok(row)
    }

    /// Ends a login for good. The cached row goes before and after the write, so neither this
    /// request nor one that read the row meanwhile keeps it open.
    async fn end_login(&self, login_id: &str, reason: &str) {
        self.logins.forget(login_id);
        let now = self.clock.wall_ms();
        let ended = on_engine!(&self.db, pool => sqlx::query(
            "UPDATE staff_logins SET ended_at_ms = $1, end_reason = $2 WHERE login_id = $3 AND ended_at_ms IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(login_id)
        .execute(pool)
        .await
        .map(|_| ()));
        self.logins.forget(login_id);
        if let Err(error) = ended {
            tracing::error!(%error, login = %hashed(login_id), "could not end a login");
        }
    }

    /// Where to sign in when a password cannot be used: ": sign in with <provider>", or nothing.
    fn sign_in_instead(&self) -> String {
        self.oidc().map(|p| format!(": sign in with {}", p.display_name())).unwrap_or_default()
    }

    /// A local account's login with its password: the one path behind both the `OpenSession`
    /// server function and the login page's form (throttle, audit, a new session id).
    pub async fn password_login(
        &self,
        session: &Session,
        address: Option<String>,
        name: &str,
        password: &str,
    ) -> Result<StaffView, ConsoleError> {
        if self.auth.local_mode() {
            return Err(ConsoleError::InvalidRequest(
                "this console runs in local mode (no staff accounts configured): there is nothing to log in to".into(),
            ));
        }
        if self.auth.users.is_empty() {
            return Err(ConsoleError::Forbidden(format!("there are no local accounts{}", self.sign_in_instead())));
        }
        self.do_login(session, address, name, password).await
    }

    async fn do_login(
        &self,
        session: &Session,
        address: Option<String>,
        name: &str,
        password: &str,
    ) -> Result<StaffView, ConsoleError> {
        if !self.auth.local_accounts {
            return Err(ConsoleError::Forbidden(format!("password sign-in is turned off{}", self.sign_in_instead())));
        }
        let shown = printable_name(name);
        let mut keys = vec![format!("account:{}", shown.to_lowercase())];
        if let Some(address) = &address {
            keys.push(format!("address:{address}"));
        }
        // The throttle shares the sessions' Redis: when it is down, no login could be kept anyway.
        let unavailable = |e: crate::expiring::shared::Unavailable| {
            ConsoleError::Unavailable(format!("the session store is unavailable: {e}"))
        };
        if let Some(wait) = self.throttle.blocked(&keys).await.map_err(unavailable)? {
            self.audit
                .record(AuditEvent {
                    actor: shown,
                    event: "login_failed",
                    outcome: "refused",
                    detail: Some("too many failed logins".into()),
                    address,
                    ..AuditEvent::default()
                })
                .await;
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
            let recorded = self.throttle.record_failure(&keys).await;
            tracing::warn!(name = %shown, address = address.as_deref().unwrap_or("-"), "failed login");
            self.audit
                .record(AuditEvent {
                    actor: shown,
                    event: "login_failed",
                    outcome: "failed",
                    detail: Some("wrong name or password".into()),
                    address,
                    ..AuditEvent::default()
                })
                .await;
            // A failure that could not be counted is not answered as a plain retry: fail closed.
            recorded.map_err(unavailable)?;
            return Err(ConsoleError::Unauthenticated("wrong name or password".into()));
        };
        self.throttle.clear(&keys[0]).await.map_err(unavailable)?;

        self.open_login(session, address, Vouched::Password(account)).await
    }

    /// Starts a login in `session`: ends a previous one, cycles the session id, records the login.
    async fn open_login(
        &self,
        session: &Session,
        address: Option<String>,
        vouched: Vouched<'_>,
    ) -> Result<StaffView, ConsoleError> {
        let unavailable =
            |e: &dyn std::fmt::Display| ConsoleError::Unavailable(format!("the session store is unavailable: {e}"));
        // A login inside an existing session ends the previous login first.
        if let Ok(Some(previous)) = session.get::<String>(LOGIN_KEY).await {
            self.end_login(&previous, "replaced_by_login").await;
        }
        // A new id: an id planted before login (fixation) stops working, its record is deleted.
        session.cycle_id().await.map_err(|e| unavailable(&e))?;
        let login_id = hex::encode(rand::random::<[u8; 32]>());
        let now = self.clock.wall_ms();
        let (name, role, source, stored_role, stored_environments, detail) = match vouched {
            Vouched::Password(account) => (account.name.clone(), account.role, "local", None, None, None),
            Vouched::Provider(identity) => (
                identity.name.clone(),
                identity.role,
                "oidc",
                Some(identity.role.as_str()),
                Some(serde_json::to_string(&identity.environment_roles).unwrap_or_else(|_| "[]".into())),
                self.oidc().map(|p| format!("via {}", p.display_name())),
            ),
        };
        on_engine!(&self.db, pool => sqlx::query(
            "INSERT INTO staff_logins (login_id, staff, login_at_ms, last_seen_ms, source, role, environment_roles) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&login_id)
        .bind(&name)
        .bind(now)
        .bind(now)
        .bind(source)
        .bind(stored_role)
        .bind(&stored_environments)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(|e| unavailable(&e))?;
        session.insert(LOGIN_KEY, &login_id).await.map_err(|e| unavailable(&e))?;
        tracing::info!(staff = %name, login = %hashed(&login_id), source, "login");
        self.audit
            .record(AuditEvent {
                actor: name.clone(),
                event: "login",
                outcome: "ok",
                detail,
                address,
                session: Some(hashed(&login_id)),
                ..AuditEvent::default()
            })
            .await;
        Ok(StaffView { name, role, local: false })
    }

    /// Finishes a sign-in at the identity provider. `Ok` is where to go next; `Err` is the code the
    /// login page explains. Every refusal is audited with its reason.
    pub async fn finish_sign_in(
        &self,
        session: &Session,
        address: Option<String>,
        params: oidc::CallbackParams,
        binding: Option<&str>,
    ) -> Result<String, &'static str> {
        let Some(provider) = self.oidc() else { return Err("off") };
        let refused = |refusal: oidc::Refusal, address: Option<String>| async move {
            tracing::warn!(code = refusal.code, reason = %refusal.reason, address = address.as_deref().unwrap_or("-"), "sign-in refused");
            self.audit
                .record(AuditEvent {
                    actor: refusal.name.unwrap_or_else(|| "-".into()),
                    event: "login_failed",
                    outcome: "refused",
                    detail: Some(format!("{}: {}", provider.display_name(), refusal.reason)),
                    address,
                    ..AuditEvent::default()
                })
                .await;
            refusal.code
        };
        let identity = match provider.finish(params, binding).await {
            Ok(identity) => identity,
            Err(refusal) => return Err(refused(refusal, address).await),
        };
        // A name the identity provider controls must not take over a local account's saved work.
        if self.account(&identity.name).is_some() {
            let refusal = oidc::Refusal {
                code: "taken",
                reason: format!("the name {} belongs to a local account", identity.name),
                name: Some(identity.name.clone()),
            };
            return Err(refused(refusal, address).await);
        }
        match self.open_login(session, address, Vouched::Provider(&identity)).await {
            Ok(_) => Ok(identity.next),
            Err(error) => {
                tracing::error!(%error, "could not record a sign-in");
                Err("unavailable")
            }
        }
    }

    async fn do_logout(&self, session: &Session, address: Option<String>) -> Result<(), ConsoleError> {
        if let Ok(Some(login_id)) = session.get::<String>(LOGIN_KEY).await {
            let staff: Option<String> = on_engine!(&self.db, pool =>
                sqlx::query_scalar("SELECT staff FROM staff_logins WHERE login_id = $1")
                    .bind(&login_id)
                    .fetch_optional(pool)
                    .await)
            .ok()
            .flatten();
            self.end_login(&login_id, "logout").await;
            tracing::info!(staff = staff.as_deref().unwrap_or("-"), login = %hashed(&login_id), "logout");
            self.audit
                .record(AuditEvent {
                    actor: staff.unwrap_or_default(),
                    event: "logout",
                    outcome: "ok",
                    address,
                    session: Some(hashed(&login_id)),
                    ..AuditEvent::default()
                })
                .await;
        }
        session.flush().await.map_err(|e| ConsoleError::Unavailable(format!("the session store is unavailable: {e}")))
    }
}

/// A `staff_logins` row: staff, login and last-seen times, end, and for an identity provider's
/// login the role and per-environment roles given at sign-in.
type LoginRow = (String, i64, i64, Option<i64>, String, Option<String>, Option<String>);

/// The roles an identity provider's login was given, as stored.
fn stored_roles(role: Option<&str>, environments: Option<&str>) -> Option<ResolvedRoles> {
    let role = Role::parse(role?)?;
    let environments: Vec<(String, Option<Role>)> = serde_json::from_str(environments.unwrap_or("[]")).ok()?;
    Some((role, environments))
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
        let (session, address) = request_session()?;
        self.password_login(&session, address, &name, &password).await
    }

    async fn logout(&self) -> Result<(), ConsoleError> {
        if self.auth.local_mode() {
            return Ok(());
        }
        let (session, address) = request_session()?;
        self.do_logout(&session, address).await
    }

    fn login_options(&self) -> LoginOptions {
        LoginOptions {
            provider: self
                .oidc()
                .map(|p| ProviderSignIn { name: p.display_name().to_owned(), logout_url: p.logout_url() }),
            password: self.auth.password_login(),
        }
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
