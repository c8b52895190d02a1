//! Demo mode per session: kept in memory for every request's check, persisted in the database so a restart
//! never shows a shared screen unmasked data.

use std::collections::HashSet;
use std::sync::Mutex;

use app::backend::Caller;
use app::wire::{ConsoleError, DemoView};

use crate::clock::SharedClock;
use crate::db::Database;
use crate::on_engine;

/// Rows older than this are forgotten at start-up (sessions end after at most a few days).
const FORGET_AFTER_MS: i64 = 30 * 86_400_000;

pub struct DemoModes {
    /// The instance forces demo mode for everyone.
    forced: bool,
    on: Mutex<HashSet<String>>,
    db: Option<Database>,
    clock: SharedClock,
}

/// The key demo mode is kept under: the session (hashed login id), or the staff member in local mode.
pub fn session_key(caller: &Caller) -> String {
    caller.session.clone().unwrap_or_else(|| format!("staff:{}", caller.name))
}

impl DemoModes {
    /// In memory only (tests, and consoles built without a database).
    pub fn in_memory(forced: bool, clock: SharedClock) -> Self {
        Self { forced, on: Mutex::new(HashSet::new()), db: None, clock }
    }

    /// Loads the sessions that had demo mode on.
    pub async fn load(forced: bool, db: Database, clock: SharedClock) -> Result<Self, sqlx::Error> {
        let forget_before = clock.wall_ms().saturating_sub(FORGET_AFTER_MS);
        let keys: Vec<(String,)> = on_engine!(&db, pool => {
            sqlx::query("DELETE FROM demo_sessions WHERE enabled_at_ms < $1").bind(forget_before).execute(pool).await?;
            sqlx::query_as("SELECT session_key FROM demo_sessions").fetch_all(pool).await?
        });
        Ok(Self { forced, on: Mutex::new(keys.into_iter().map(|(k,)| k).collect()), db: Some(db), clock })
    }

    pub fn forced(&self) -> bool {
        self.forced
    }

    /// Whether `caller`'s answers are masked for a demo. A poisoned lock reads as on: masking too
    /// much is the safe failure.
    pub fn is_on(&self, caller: &Caller) -> bool {
        self.forced || self.on.lock().map(|on| on.contains(&session_key(caller))).unwrap_or(true)
    }

    pub fn view(&self, caller: &Caller) -> DemoView {
        DemoView { enabled: self.is_on(caller), forced: self.forced }
    }

    /// Switches demo mode for the caller's session; persisted before it is reported.
    pub async fn set(&self, caller: &Caller, enabled: bool) -> Result<DemoView, ConsoleError> {
        if self.forced && !enabled {
            return Err(ConsoleError::Forbidden(
                "this console is configured to always run in demo mode (masking.force_demo); it cannot be switched off"
                    .into(),
            ));
        }
        let key = session_key(caller);
        if let Some(db) = &self.db {
            let now = self.clock.wall_ms();
            let result = on_engine!(db, pool => if enabled {
                sqlx::query(
                    "INSERT INTO demo_sessions (session_key, enabled_at_ms) VALUES ($1, $2)
                     ON CONFLICT (session_key) DO UPDATE SET enabled_at_ms = $2",
                )
                .bind(&key)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
            } else {
                sqlx::query("DELETE FROM demo_sessions WHERE session_key = $1").bind(&key).execute(pool).await.map(|_| ())
            });
            result.map_err(|e| ConsoleError::Internal(format!("demo mode could not be saved: {e}")))?;
        }
        let mut on = self.on.lock().map_err(|_| ConsoleError::Internal("demo mode state is unavailable".into()))?;
        if enabled {
            on.insert(key);
        } else {
            on.remove(&key);
        }
        drop(on);
        Ok(self.view(caller))
    }
}

/// Where the switch lives: this process (with its SQLite rows), or Redis, shared by every replica
/// (`demo_shared.rs`), chosen at start-up. The service asks this, never a variant directly.
pub enum DemoSwitch {
    Local(DemoModes),
    Shared(super::demo_shared::SharedDemoModes),
}

impl From<DemoModes> for DemoSwitch {
    fn from(modes: DemoModes) -> Self {
        Self::Local(modes)
    }
}

impl DemoSwitch {
    pub fn forced(&self) -> bool {
        match self {
            Self::Local(modes) => modes.forced(),
            Self::Shared(modes) => modes.forced(),
        }
    }

    /// Whether `caller`'s answers are masked for a demo: this process' set, or the switch read from
    /// Redis once for this request (`Caller::demo`).
    pub fn is_on(&self, caller: &Caller) -> bool {
        match self {
            Self::Local(modes) => modes.is_on(caller),
            Self::Shared(modes) => modes.is_on(caller),
        }
    }

    pub fn view(&self, caller: &Caller) -> DemoView {
        DemoView { enabled: self.is_on(caller), forced: self.forced() }
    }

    pub async fn set(&self, caller: &Caller, enabled: bool) -> Result<DemoView, ConsoleError> {
        match self {
            Self::Local(modes) => modes.set(caller, enabled).await,
            Self::Shared(modes) => modes.set(caller, enabled).await,
        }
    }

    /// The switch for one request, when it lives in Redis (one `GET`); `None` when this process
    /// holds it and `is_on` asks it directly.
    pub async fn read(&self, caller: &Caller) -> Option<bool> {
        match self {
            Self::Local(_) => None,
            Self::Shared(modes) => Some(modes.read(caller).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn caller(name: &str, session: Option<&str>) -> Caller {
        Caller {
            name: name.into(),
            role: app::wire::Role::Viewer,
            environment_roles: Vec::new(),
            local: session.is_none(),
            session: session.map(str::to_owned),
            address: None,
            demo: None,
        }
    }

    #[tokio::test]
    async fn demo_mode_is_per_session_and_survives_a_restart() {
        let path = std::env::temp_dir().join(format!("a55-console-demo-{}.db", uuid::Uuid::new_v4()));
        let db = Database::Sqlite(crate::db::open(&path).await.unwrap());
        let modes = DemoModes::load(false, db.clone(), ManualClock::new()).await.unwrap();
        let (first, second) = (caller("ana", Some("s1")), caller("ana", Some("s2")));
        assert!(!modes.is_on(&first));
        assert_eq!(modes.set(&first, true).await.unwrap(), DemoView { enabled: true, forced: false });
        assert!(modes.is_on(&first));
        assert!(!modes.is_on(&second), "another session of the same person is not in demo mode");

        let restarted = DemoModes::load(false, db.clone(), ManualClock::new()).await.unwrap();
        assert!(restarted.is_on(&first), "a restart does not unmask a shared screen");
        restarted.set(&first, false).await.unwrap();
        assert!(!DemoModes::load(false, db.clone(), ManualClock::new()).await.unwrap().is_on(&first));
        db.close().await;
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn a_forced_instance_is_always_in_demo_mode_and_refuses_switching_off() {
        let modes = DemoModes::in_memory(true, ManualClock::new());
        let local = caller("local", None);
        assert_eq!(modes.view(&local), DemoView { enabled: true, forced: true });
        let error = modes.set(&local, false).await.unwrap_err();
        assert_eq!(error.status_code(), 403);
        assert!(modes.set(&local, true).await.is_ok());
    }
}
