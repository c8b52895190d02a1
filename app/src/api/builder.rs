//! The request builder's tools: curl import, snippets, history, preferences and saved requests.
//! History and preferences belong to the caller; saved requests are shared by all staff.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{
    ConsoleError, CurlImport, ExecuteRequest, HistoryDetail, HistoryEntry, Preferences, SaveRequest, SavedRequest,
    Snippet,
};

#[server(prefix = "/api", endpoint = "curl", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn import_curl(command: String) -> Result<CurlImport, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.import_curl(&caller, &command) }).await
}

#[server(prefix = "/api", endpoint = "snippets", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn make_snippets(request: ExecuteRequest) -> Result<Vec<Snippet>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.snippets(&caller, &request) }).await
}

#[server(prefix = "/api", endpoint = "history", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn list_history(limit: u32) -> Result<Vec<HistoryEntry>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.history(&caller, limit).await }).await
}

#[server(prefix = "/api", endpoint = "history/entry", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_history_entry(id: i64) -> Result<HistoryDetail, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.history_entry(&caller, id).await }).await
}

#[server(prefix = "/api", endpoint = "history/delete", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn delete_history_entry(id: i64) -> Result<(), ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.delete_history_entry(&caller, id).await }).await
}

/// Clears a history: the caller's own (no `staff`), or, for an admin, anyone's.
#[server(prefix = "/api", endpoint = "history/clear", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn clear_history(staff: Option<String>) -> Result<u64, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.clear_history(&caller, staff).await }).await
}

/// Remembers the caller's theme (`light`, `dark`, or none to follow the system).
#[server(prefix = "/api", endpoint = "preferences/theme", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn set_theme(#[server(default)] theme: Option<String>) -> Result<(), ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.set_theme(&caller, theme).await }).await
}

#[server(prefix = "/api", endpoint = "preferences", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_preferences() -> Result<Preferences, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.preferences(&caller).await }).await
}

#[server(prefix = "/api", endpoint = "saved", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn list_saved_requests() -> Result<Vec<SavedRequest>, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.saved_requests(&caller).await }).await
}

#[server(prefix = "/api", endpoint = "saved/save", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn store_saved_request(request: SaveRequest) -> Result<SavedRequest, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.save_request(&caller, request).await }).await
}

#[server(prefix = "/api", endpoint = "saved/delete", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn delete_saved_request(id: i64) -> Result<(), ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.delete_saved_request(&caller, id).await }).await
}
