//! Demo mode in Redis, for replicas behind a balancer: a switch made on one replica masks the
//! answers of every other at their next request.
//!
//! One key per session, `<prefix>demo:<hash of the session key>` (never a session or login id),
//! holding `1` while demo mode is on and expiring with the longest a session can live. Each request
//! with a caller reads it once (`read_per_request`, one `GET`) into `Caller::demo`; every check on
//! that request's masking path then reads the caller, never Redis again.
//!
//! When Redis does not answer, the switch reads as **on**: masking personal data a staff member
//! wanted to see is an annoyance, showing it on a screen a partner is watching is a leak. Switching
//! fails with 503 instead of pretending. Both count in `a55_console_redis_errors_total`.

use std::sync::Arc;
use std::time::Duration;

use app::backend::Caller;
use app::wire::{ConsoleError, DemoView};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use redis::aio::ConnectionManager;

use super::demo::session_key;
use crate::metrics::Metrics;
use crate::service::ConsoleService;

/// How long a switch is kept without a session: local mode has none (the SQLite rows' age bound).
const WITHOUT_SESSION: Duration = Duration::from_secs(30 * 86_400);

pub struct SharedDemoModes {
    forced: bool,
    connection: ConnectionManager,
    prefix: String,
    metrics: Arc<Metrics>,
    /// The longest a session lives (`auth.absolute_timeout`): a switch never outlives its session
    /// by more, and never expires before it.
    session_lifetime: Duration,
}

impl SharedDemoModes {
    pub fn new(
        forced: bool,
        connection: ConnectionManager,
        prefix: &str,
        metrics: Arc<Metrics>,
        session_lifetime: Duration,
    ) -> Self {
        Self { forced, connection, prefix: prefix.to_owned(), metrics, session_lifetime }
    }

    pub fn forced(&self) -> bool {
        self.forced
    }

    /// `<prefix>demo:<hash>`: the session key is already a hash of the login id; hashed again so
    /// that no key in Redis matches an audit row's session column.
    pub fn key(&self, caller: &Caller) -> String {
        format!("{}demo:{}", self.prefix, crate::auth::hashed(&session_key(caller)))
    }

    /// Whether `caller`'s answers are masked, as read for this request. A caller whose switch was
    /// not read (`None`) is masked: nothing shows personal data without having asked.
    pub fn is_on(&self, caller: &Caller) -> bool {
        self.forced || caller.demo.unwrap_or(true)
    }

    /// The switch as Redis holds it now: one `GET`, none on a forced instance. Fails closed.
    pub async fn read(&self, caller: &Caller) -> bool {
        if self.forced {
            return true;
        }
        let mut connection = self.connection.clone();
        self.metrics.shared_store_operation("demo", "get");
        let value: Result<Option<String>, _> =
            redis::cmd("GET").arg(self.key(caller)).query_async(&mut connection).await;
        match value {
            Ok(value) => value.is_some(),
            Err(error) => {
                // Fail closed: masking is the safe side when a partner may be watching.
                self.metrics.redis_error("demo_get");
                tracing::warn!(error = %error, "demo mode could not be read from Redis; masking as in demo mode");
                true
            }
        }
    }

    /// Switches demo mode for the caller's session on every replica; stored before it is reported.
    pub async fn set(&self, caller: &Caller, enabled: bool) -> Result<DemoView, ConsoleError> {
        if self.forced && !enabled {
            return Err(ConsoleError::Forbidden(
                "this console is configured to always run in demo mode (masking.force_demo); it cannot be switched off"
                    .into(),
            ));
        }
        let key = self.key(caller);
        let mut connection = self.connection.clone();
        self.metrics.shared_store_operation("demo", "set");
        let result: Result<(), _> = if enabled {
            let keep = if caller.session.is_some() { self.session_lifetime } else { WITHOUT_SESSION };
            let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1);
            redis::cmd("SET").arg(&key).arg("1").arg("PX").arg(keep_ms).query_async(&mut connection).await
        } else {
            redis::cmd("DEL").arg(&key).query_async::<i64>(&mut connection).await.map(|_| ())
        };
        if let Err(error) = result {
            self.metrics.redis_error("demo_set");
            tracing::warn!(error = %error, "demo mode could not be switched in Redis");
            return Err(ConsoleError::Unavailable("the shared store is unavailable; try again in a moment".into()));
        }
        Ok(DemoView { enabled: self.forced || enabled, forced: self.forced })
    }
}

/// Reads the caller's demo mode once for this request when it lives in Redis, into `Caller::demo`
/// (runs inside the gate, which put the caller there). Without Redis nothing is read.
pub async fn read_per_request(
    State(service): State<Arc<ConsoleService>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(caller) = request.extensions().get::<Caller>() {
        if let Some(on) = service.read_demo_mode(caller).await {
            if let Some(caller) = request.extensions_mut().get_mut::<Caller>() {
                caller.demo = Some(on);
            }
        }
    }
    next.run(request).await
}
