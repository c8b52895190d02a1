//! Server functions: thin adapters from the browser to the server's `ConsoleBackend` and `StaffBackend`.
//!
//! Every one names `CsrfClient`, so the browser sends the anti-CSRF header the server requires.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{
    AuditFilter, AuditRecord, Catalog, ConsoleError, CurlImport, EnvironmentView, ExecuteRequest, ExecuteResponse,
    HistoryDetail, HistoryEntry, JsonPathAnswer, Preferences, SaveRequest, SavedRequest, Snippet, StaffView,
    TokenDetails, TokenView,
};
use crate::wire::{CompareRequest, CompareResult, CompareSettings, RediffRequest};
use crate::wire::{DemoView, RevealedSecret};

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

#[server(prefix = "/api", endpoint = "environments", client = CsrfClient)]
pub async fn list_environments() -> Result<Vec<EnvironmentView>, ConsoleError> {
    answer(crate::backend::caller().and_then(|caller| Ok(crate::backend::backend()?.environments(&caller))))
}

#[server(prefix = "/api", endpoint = "catalog", client = CsrfClient)]
pub async fn get_catalog() -> Result<Catalog, ConsoleError> {
    answer(crate::backend::caller().and_then(|_| crate::backend::backend().map(|backend| backend.catalog())))
}

#[server(prefix = "/api", endpoint = "token", client = CsrfClient)]
pub async fn token_status(environment: String) -> Result<TokenView, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.token_status(&caller, &environment).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "execute", input = Json, client = CsrfClient)]
pub async fn execute(request: ExecuteRequest) -> Result<ExecuteResponse, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        let backend = crate::backend::backend()?;
        let outcome = backend.execute(&caller, request.clone()).await;
        backend.record_run(&caller, &request, &outcome).await;
        outcome
    };
    answer(result.await)
}

/// Who is logged in (the local admin in local mode).
#[server(prefix = "/api", endpoint = "whoami", client = CsrfClient)]
pub async fn whoami() -> Result<StaffView, ConsoleError> {
    answer(crate::backend::caller().map(|caller| caller.view()))
}

#[server(prefix = "/api", endpoint = "login", client = CsrfClient)]
pub async fn login(name: String, password: String) -> Result<StaffView, ConsoleError> {
    let result = async { crate::backend::staff()?.login(name, password).await };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "logout", client = CsrfClient)]
pub async fn logout() -> Result<(), ConsoleError> {
    let result = async { crate::backend::staff()?.logout().await };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "audit", input = Json, client = CsrfClient)]
pub async fn audit_log(filter: AuditFilter) -> Result<Vec<AuditRecord>, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::staff()?.audit(&caller, filter).await
    };
    answer(result.await)
}

/// The token page's view of one environment (never requests a token).
#[server(prefix = "/api", endpoint = "token/details", client = CsrfClient)]
pub async fn get_token_details(environment: String) -> Result<TokenDetails, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.token_details(&caller, &environment).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "token/refresh", client = CsrfClient)]
pub async fn refresh_token(environment: String) -> Result<TokenDetails, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.refresh_token(&caller, &environment).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "token/forget", client = CsrfClient)]
pub async fn forget_token(environment: String) -> Result<TokenDetails, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.forget_token(&caller, &environment).await
    };
    answer(result.await)
}

// Request builder. History and preferences belong to the caller; saved requests are shared by all staff.

#[server(prefix = "/api", endpoint = "catalog/refresh", client = CsrfClient)]
pub async fn refresh_live_spec(environment: String) -> Result<Catalog, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.refresh_live_spec(&caller, &environment).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "curl", input = Json, client = CsrfClient)]
pub async fn import_curl(command: String) -> Result<CurlImport, ConsoleError> {
    answer(crate::backend::caller().and_then(|caller| crate::backend::backend()?.import_curl(&caller, &command)))
}

#[server(prefix = "/api", endpoint = "snippets", input = Json, client = CsrfClient)]
pub async fn snippets(request: ExecuteRequest) -> Result<Vec<Snippet>, ConsoleError> {
    answer(crate::backend::caller().and_then(|caller| crate::backend::backend()?.snippets(&caller, &request)))
}

#[server(prefix = "/api", endpoint = "history", client = CsrfClient)]
pub async fn history(limit: u32) -> Result<Vec<HistoryEntry>, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.history(&caller, limit).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "history/entry", client = CsrfClient)]
pub async fn open_history_entry(id: i64) -> Result<HistoryDetail, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.history_entry(&caller, id).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "preferences", client = CsrfClient)]
pub async fn load_preferences() -> Result<Preferences, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.preferences(&caller).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "saved", client = CsrfClient)]
pub async fn saved_requests() -> Result<Vec<SavedRequest>, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.saved_requests(&caller).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "saved/save", input = Json, client = CsrfClient)]
pub async fn store_saved_request(request: SaveRequest) -> Result<SavedRequest, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.save_request(&caller, request).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "saved/delete", client = CsrfClient)]
pub async fn delete_saved_request(id: i64) -> Result<(), ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.delete_saved_request(&caller, id).await
    };
    answer(result.await)
}

/// Filters a stored response body with a JSONPath expression (evaluated on the server, see ARCHITECTURE.md).
#[server(prefix = "/api", endpoint = "jsonpath", client = CsrfClient)]
pub async fn jsonpath(body_id: String, expression: String) -> Result<JsonPathAnswer, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.jsonpath(&caller, &body_id, &expression).await
    };
    answer(result.await)
}

/// Demo mode for this session (and whether the instance forces it).
#[server(prefix = "/api", endpoint = "demo", client = CsrfClient)]
pub async fn demo_mode() -> Result<DemoView, ConsoleError> {
    answer(crate::backend::caller().and_then(|caller| Ok(crate::backend::backend()?.demo_mode(&caller))))
}

#[server(prefix = "/api", endpoint = "demo/set", client = CsrfClient)]
pub async fn set_demo_mode(enabled: bool) -> Result<DemoView, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.set_demo_mode(&caller, enabled).await
    };
    answer(result.await)
}

/// The original of one masked secret (admins only; audited).
#[server(prefix = "/api", endpoint = "reveal", client = CsrfClient)]
pub async fn reveal_secret(reveal_id: String) -> Result<RevealedSecret, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.reveal(&caller, &reveal_id).await
    };
    answer(result.await)
}

/// Sends one request to two environments and diffs the answers (see ARCHITECTURE.md, Compare).
#[server(prefix = "/api", endpoint = "compare", input = Json, client = CsrfClient)]
pub async fn compare(request: CompareRequest) -> Result<CompareResult, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.compare(&caller, request).await
    };
    answer(result.await)
}

/// Diffs an earlier compare's stored answers again with other options; nothing is sent upstream.
#[server(prefix = "/api", endpoint = "compare/diff", input = Json, client = CsrfClient)]
pub async fn rediff(request: RediffRequest) -> Result<CompareResult, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.rediff(&caller, request).await
    };
    answer(result.await)
}

#[server(prefix = "/api", endpoint = "compare/settings", client = CsrfClient)]
pub async fn load_compare_settings(endpoint: String) -> Result<CompareSettings, ConsoleError> {
    let result = async {
        let caller = crate::backend::caller()?;
        crate::backend::backend()?.compare_settings(&caller, &endpoint).await
    };
    answer(result.await)
}
