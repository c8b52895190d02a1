//! The seam between server functions (in this crate) and the server's services (in `server`).
//!
//! `app` must not depend on `server`, so the server implements this trait and hands it to every
//! server function through Leptos context.

use std::sync::Arc;

use crate::wire::{Catalog, ConsoleError, EnvironmentView, ExecuteRequest, ExecuteResponse, TokenView};

#[async_trait::async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    fn environments(&self) -> Vec<EnvironmentView>;
    fn catalog(&self) -> Catalog;
    /// Metadata of the cached token; never triggers a token request.
    async fn token_status(&self, environment: &str) -> Result<TokenView, ConsoleError>;
    async fn execute(&self, request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError>;
}

pub type SharedBackend = Arc<dyn ConsoleBackend>;

/// The backend provided to this request, or an internal error when the router was built without one.
pub fn backend() -> Result<SharedBackend, ConsoleError> {
    leptos::prelude::use_context::<SharedBackend>()
        .ok_or_else(|| ConsoleError::Internal("the console backend is not configured".into()))
}
