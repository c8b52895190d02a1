//! Environments, the catalog, running a request and querying its stored answer.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{Catalog, ConsoleError, EnvironmentView, ExecuteRequest, ExecuteResponse, JsonPathAnswer};

#[server(prefix = "/api", endpoint = "environments", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn list_environments() -> Result<Vec<EnvironmentView>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { Ok(backend.environments(&caller)) }).await
}

#[server(prefix = "/api", endpoint = "catalog", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_catalog() -> Result<Catalog, ConsoleError> {
    crate::backend::serve(|_, backend| async move { Ok(backend.catalog()) }).await
}

/// Fetches an environment's live OpenAPI document again.
#[server(prefix = "/api", endpoint = "catalog/refresh", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn refresh_catalog(environment: String) -> Result<Catalog, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.refresh_live_spec(&caller, &environment).await }).await
}

/// Sends one request and records it in the caller's history. With a `run_id` (chosen by the
/// browser), `cancel_run` can stop it while it waits for the API.
#[server(prefix = "/api", endpoint = "execute", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn run_request(
    request: ExecuteRequest,
    #[server(default)] run_id: Option<String>,
) -> Result<ExecuteResponse, ConsoleError> {
    crate::backend::serve(|caller, backend| async move {
        let outcome = backend.execute_run(&caller, request.clone(), run_id).await;
        if !matches!(outcome, Err(ConsoleError::Cancelled(_))) {
            backend.record_run(&caller, &request, &outcome).await;
        }
        outcome
    })
    .await
}

/// Cancels one of the caller's runs in flight; false when it already ended.
#[server(prefix = "/api", endpoint = "execute/cancel", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn cancel_run(run_id: String) -> Result<bool, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.cancel_run(&caller, &run_id).await }).await
}

/// Filters a stored response body with a JSONPath expression (evaluated on the server, see ARCHITECTURE.md).
#[server(prefix = "/api", endpoint = "jsonpath", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn query_body(body_id: String, expression: String) -> Result<JsonPathAnswer, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.jsonpath(&caller, &body_id, &expression).await }).await
}
