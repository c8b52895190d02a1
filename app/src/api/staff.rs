//! Staff access: who is logged in, logging in and out, and the audit trail.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::csrf::CsrfClient;
use crate::wire::{AuditFilter, AuditRecord, ConsoleError, LoginOptions, StaffView};

/// Who is logged in (the local admin in local mode).
#[server(prefix = "/api", endpoint = "whoami", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_current_staff() -> Result<StaffView, ConsoleError> {
    crate::backend::serve(|caller, _| async move { Ok(caller.view()) }).await
}

#[server(prefix = "/api", endpoint = "login", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn open_session(name: String, password: String) -> Result<StaffView, ConsoleError> {
    crate::backend::serve_staff(|_, staff| async move { staff.login(name, password).await }).await
}

/// How staff may sign in: the identity provider first, local accounts when they are on.
#[server(prefix = "/api", endpoint = "login/options", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_login_options() -> Result<LoginOptions, ConsoleError> {
    crate::backend::serve_staff(|_, staff| async move { Ok(staff.login_options()) }).await
}

#[server(prefix = "/api", endpoint = "logout", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn close_session() -> Result<(), ConsoleError> {
    crate::backend::serve_staff(|_, staff| async move { staff.logout().await }).await
}

#[server(prefix = "/api", endpoint = "audit", input = Json, output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn list_audit_records(filter: AuditFilter) -> Result<Vec<AuditRecord>, ConsoleError> {
    crate::backend::serve_staff(|caller, staff| async move { staff.audit(&caller?, filter).await }).await
}
