//! `POST /login`: the login page's plain form (name, password, next), so the page needs no WASM.
//!
//! The request guard has already checked that the post comes from this console's own page
//! (`web::form_csrf_problem`). The login itself is `StaffAccess::password_login`, the path behind the
//! `OpenSession` server function too: the same throttle, audit rows and new session id. Success is a
//! 303 to `next` (a path on this origin only); a refusal is the login page again, with the message
//! and the status of the error, the name kept and the password never sent back.

use std::net::SocketAddr;

use app::ui::pages::login::{safe_next, RefusedLogin, LOGIN_PATH};
use app::wire::ConsoleError;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest as _, Request, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use leptos::prelude::provide_context;
use serde::Deserialize;
use tower_sessions::Session;

use crate::error::refusal;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(LOGIN_PATH, post(submit))
}

/// The form's fields. No `Debug`: the password must not end up in a log line by accident.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(Form(form)) = Form::<LoginForm>::from_request(Request::from_parts(parts.clone(), body), &state).await else {
        return refusal(ConsoleError::InvalidRequest(
            "send the login form as application/x-www-form-urlencoded with the fields name, password and next".into(),
        ));
    };
    let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let next = safe_next(form.next);
    let outcome = match parts.extensions.get::<Session>() {
        Some(session) => state.access.password_login(session, address, &form.name, &form.password).await,
        None => Err(ConsoleError::Internal("sessions are not configured".into())),
    };
    let Err(error) = outcome else { return Redirect::to(&next).into_response() };
    let status = http::StatusCode::from_u16(error.status_code()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    // Kept in the field as typed, within reason: no account has a name this long.
    let name = form.name.chars().take(256).collect();
    let refused = RefusedLogin { name, next, message: error.to_string() };
    // The page renders for `parts`' path, `/login`; the form's body has been read.
    let mut response =
        super::render_page(&state, move || provide_context(refused.clone()), Request::from_parts(parts, Body::empty()))
            .await;
    *response.status_mut() = status;
    response
}
