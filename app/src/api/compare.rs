//! Compare: one request to two environments, diffed on the server (see ARCHITECTURE.md, Compare).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{CompareRequest, CompareResult, CompareSettings, ConsoleError, RediffRequest};

#[server(prefix = "/api", endpoint = "compare", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn run_compare(request: CompareRequest) -> Result<CompareResult, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.compare(&caller, request).await }).await
}

/// Diffs an earlier compare's stored answers again with other options; nothing is sent upstream.
#[server(prefix = "/api", endpoint = "compare/diff", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn rediff_compare(request: RediffRequest) -> Result<CompareResult, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.rediff(&caller, request).await }).await
}

#[server(prefix = "/api", endpoint = "compare/settings", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_compare_settings(endpoint: String) -> Result<CompareSettings, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.compare_settings(&caller, &endpoint).await }).await
}
