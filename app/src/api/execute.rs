//! Environments, the catalog, running a request and querying its stored answer.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{Catalog, ConsoleError, EnvironmentView, ExecuteRequest, ExecuteResponse, JsonPathAnswer};

#[server(prefix = "/api", endpoint = "environments", client = CsrfClient)]
pub async fn list_environments() -> Result<Vec<EnvironmentView>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { Ok(backend.environments(&caller)) }).await
}

#[server(prefix = "/api", endpoint = "catalog", client = CsrfClient)]
pub async fn get_catalog() -> Result<Catalog, ConsoleError> {
    crate::backend::serve(|_, backend| async move { Ok(backend.catalog()) }).await
}

/// Fetches an environment's live OpenAPI document again.
#[server(prefix = "/api", endpoint = "catalog/refresh", client = CsrfClient)]
pub async fn refresh_catalog(environment: String) -> Result<Catalog, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.refresh_live_spec(&caller, &environment).await }).await
}

/// Sends one request and records it in the caller's history.
#[server(prefix = "/api", endpoint = "execute", input = Json, client = CsrfClient)]
pub async fn run_request(request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError> {
    crate::backend::serve(|caller, backend| async move {
        let outcome = backend.execute(&caller, request.clone()).await;
        backend.record_run(&caller, &request, &outcome).await;
        outcome
    })
    .await
}

/// Filters a stored response body with a JSONPath expression (evaluated on the server, see ARCHITECTURE.md).
#[server(prefix = "/api", endpoint = "jsonpath", client = CsrfClient)]
pub async fn query_body(body_id: String, expression: String) -> Result<JsonPathAnswer, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.jsonpath(&caller, &body_id, &expression).await }).await
}
