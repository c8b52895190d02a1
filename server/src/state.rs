//! The application state: every long-lived part the HTTP surface needs, built once by `startup`
//! and handed to axum, which gives each handler the part it asks for through `FromRef`.

use std::sync::Arc;

use app::backend::{SharedBackend, SharedStaff};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::store::Sessions;
use crate::auth::web::Origins;
use crate::auth::StaffAccess;
use crate::metrics::Metrics;
use crate::service::ConsoleService;

/// Cloned for every request (axum hands each handler its own copy), so it is one shared pointer:
/// one reference count to bump instead of one per part and per string of the Leptos options.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

/// The parts, built once.
pub struct Parts {
    pub leptos: LeptosOptions,
    pub service: Arc<ConsoleService>,
    pub access: Arc<StaffAccess>,
    pub sessions: Sessions,
    pub origins: Arc<Origins>,
    pub db: crate::db::Database,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(parts))
    }

    /// The service as the server functions see it (the port `app` defines).
    pub fn backend(&self) -> SharedBackend {
        self.service.clone()
    }

    pub fn staff(&self) -> SharedStaff {
        self.access.clone()
    }
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

macro_rules! part {
    ($field:ident: $type:ty) => {
        impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    };
}

part!(leptos: LeptosOptions);
part!(service: Arc<ConsoleService>);
part!(access: Arc<StaffAccess>);
part!(origins: Arc<Origins>);
part!(db: crate::db::Database);
part!(metrics: Arc<Metrics>);
part!(sessions: Sessions);
