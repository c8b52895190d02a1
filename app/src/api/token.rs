//! The shared access tokens: metadata for the badge and the token page, refresh and forget.

use leptos::prelude::*;

use crate::csrf::CsrfClient;
use crate::wire::{ConsoleError, TokenDetails, TokenView};

#[server(prefix = "/api", endpoint = "token", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_token_status(environment: String) -> Result<TokenView, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.token_status(&caller, &environment).await }).await
}

/// The token page's view of one environment (never requests a token).
#[server(prefix = "/api", endpoint = "token/details", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn get_token_details(environment: String) -> Result<TokenDetails, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.token_details(&caller, &environment).await }).await
}

#[server(prefix = "/api", endpoint = "token/refresh", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn refresh_token(environment: String) -> Result<TokenDetails, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.refresh_token(&caller, &environment).await }).await
}

#[server(prefix = "/api", endpoint = "token/forget", output = crate::codec::LiteJson, client = CsrfClient)]
pub async fn forget_token(environment: String) -> Result<TokenDetails, ConsoleError> {
    crate::backend::serve(|caller, backend| async move { backend.forget_token(&caller, &environment).await }).await
}
