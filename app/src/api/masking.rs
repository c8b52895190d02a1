//! Demo mode per session and admin reveals of masked secrets.

use leptos::prelude::*;

use crate::csrf::CsrfClient;
use crate::wire::{ConsoleError, DemoView, RevealedSecret};

/// Demo mode for this session (and whether the instance forces it).
#[server(prefix = "/api", endpoint = "demo", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_demo_mode() -> Result<DemoView, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { Ok(backend.demo_mode(&caller)) }).await
}

#[server(prefix = "/api", endpoint = "demo/set", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn set_demo_mode(enabled: bool) -> Result<DemoView, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.set_demo_mode(&caller, enabled).await }).await
}

/// The original of one masked secret (admins only; audited).
#[server(prefix = "/api", endpoint = "reveal", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn reveal_secret(reveal_id: String) -> Result<RevealedSecret, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.reveal(&caller, &reveal_id).await }).await
}
