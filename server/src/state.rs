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

#[derive(Clone)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub service: Arc<ConsoleService>,
    pub access: Arc<StaffAccess>,
    pub sessions: Sessions,
    pub origins: Arc<Origins>,
    pub db: crate::db::Database,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The service as the server functions see it (the port `app` defines).
    pub fn backend(&self) -> SharedBackend {
        self.service.clone()
    }

    pub fn staff(&self) -> SharedStaff {
        self.access.clone()
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
