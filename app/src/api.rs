//! Server functions: thin adapters from the browser to the server's `ConsoleBackend`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::wire::{Catalog, ConsoleError, EnvironmentView, ExecuteRequest, ExecuteResponse, TokenView};

/// Sets the HTTP status of a failed server-function call from the error itself.
#[cfg(feature = "ssr")]
fn answer<T>(result: Result<T, ConsoleError>) -> Result<T, ConsoleError> {
    if let Err(error) = &result {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status_code()) {
                options.set_status(status);
            }
        }
    }
    result
}

#[server(prefix = "/api", endpoint = "environments")]
pub async fn list_environments() -> Result<Vec<EnvironmentView>, ConsoleError> {
    answer(crate::backend::backend().map(|backend| backend.environments()))
}

#[server(prefix = "/api", endpoint = "catalog")]
pub async fn get_catalog() -> Result<Catalog, ConsoleError> {
    answer(crate::backend::backend().map(|backend| backend.catalog()))
}

#[server(prefix = "/api", endpoint = "token")]
pub async fn token_status(environment: String) -> Result<TokenView, ConsoleError> {
    let result = match crate::backend::backend() {
        Ok(backend) => backend.token_status(&environment).await,
        Err(error) => Err(error),
    };
    answer(result)
}

#[server(prefix = "/api", endpoint = "execute", input = Json)]
pub async fn execute(request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError> {
    let result = match crate::backend::backend() {
        Ok(backend) => backend.execute(request).await,
        Err(error) => Err(error),
    };
    answer(result)
}
