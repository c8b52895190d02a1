//! `/auth/oidc/start` and `/auth/oidc/callback`: sign-in through the identity provider.
//!
//! Start sets a short-lived `SameSite=Lax` cookie binding the sign-in to this browser and sends it
//! to the identity provider. The callback (a cross-site navigation, so the `Strict` session cookie
//! is not sent and would not be sent after a redirect either) finishes the sign-in, then answers a
//! small page that continues with a same-site navigation, which does carry the new session cookie.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use http::header::{self, HeaderMap, HeaderValue};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::oidc::{CallbackParams, PENDING_TTL};
use crate::auth::StaffAccess;
use crate::state::AppState;

/// Binds a pending sign-in to the browser that started it.
const BINDING_COOKIE: &str = "__Host-a55-sign-in";

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth/oidc/start", get(start)).route(crate::auth::oidc::CALLBACK_PATH, get(callback))
}

#[derive(Debug, Default, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

async fn start(State(access): State<Arc<StaffAccess>>, Query(query): Query<StartQuery>) -> Response {
    let Some(provider) = access.oidc() else {
        return Redirect::to("/login").into_response();
    };
    match provider.start(app::ui::pages::login::safe_next(query.next)) {
        Ok((url, binding)) => {
            let mut response = Redirect::to(url.as_str()).into_response();
            set_binding(&mut response, &binding, PENDING_TTL.as_secs());
            response
        }
        Err(refusal) => {
            tracing::error!(reason = %refusal.reason, "could not start a sign-in");
            Redirect::to(&format!("/login?sso={}", refusal.code)).into_response()
        }
    }
}

async fn callback(
    State(access): State<Arc<StaffAccess>>,
    session: Option<Extension<Session>>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let address = connection.map(|c| c.0 .0.ip().to_string());
    let binding = binding_of(&headers);
    let outcome = match session {
        Some(Extension(session)) => access.finish_sign_in(&session, address, params, binding.as_deref()).await,
        None => Err("unavailable"),
    };
    let mut response = match outcome {
        Ok(next) => continue_to(&next),
        Err(code) => Redirect::to(&format!("/login?sso={code}")).into_response(),
    };
    // Used once, whatever happened.
    set_binding(&mut response, "", 0);
    response
}

fn set_binding(response: &mut Response, value: &str, max_age: u64) {
    let cookie = format!("{BINDING_COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn binding_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BINDING_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// A page that moves on with a same-site navigation: the session cookie is `SameSite=Strict`, and
/// a browser does not send it on a redirect that ends a cross-site navigation.
fn continue_to(next: &str) -> Response {
    let escaped = html_escape(next);
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in · a55 console</title>\
         <meta http-equiv=\"refresh\" content=\"0; url={escaped}\"></head>\
         <body><p data-testid=\"signed-in\">Signed in. <a href=\"{escaped}\">Continue to the console</a>.</p></body></html>"
    );
    let mut response = axum::response::Html(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    );
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&#39;")
}
