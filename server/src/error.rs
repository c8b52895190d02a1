//! How server-side failures become the errors staff see. Each maps to one `ConsoleError`, whose
//! `status_code()` is the single place HTTP statuses are chosen; `refusal` turns one into a response.

use app::wire::ConsoleError;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::StatusCode;

use crate::curl::CurlError;
use crate::jsonpath::JsonPathError;
use crate::token::TokenError;
use crate::upstream::path::PathError;
use crate::upstream::UpstreamError;

/// Redis behind the shared stores did not answer: 503, and the message says only that.
impl From<crate::expiring::shared::Unavailable> for ConsoleError {
    fn from(error: crate::expiring::shared::Unavailable) -> Self {
        ConsoleError::Unavailable(error.to_string())
    }
}

impl From<TokenError> for ConsoleError {
    fn from(error: TokenError) -> Self {
        Self::TokenUnavailable(error.to_string())
    }
}

impl From<PathError> for ConsoleError {
    fn from(error: PathError) -> Self {
        Self::InvalidRequest(error.to_string())
    }
}

impl From<UpstreamError> for ConsoleError {
    fn from(error: UpstreamError) -> Self {
        match error {
            UpstreamError::ForbiddenHeader(_) | UpstreamError::InvalidHeader(_) | UpstreamError::Method(_) => {
                Self::InvalidRequest(error.to_string())
            }
            UpstreamError::Timeout { .. } => Self::UpstreamTimeout(error.to_string()),
            UpstreamError::Unreachable { .. } => Self::UpstreamUnavailable(error.to_string()),
        }
    }
}

impl From<CurlError> for ConsoleError {
    fn from(error: CurlError) -> Self {
        Self::InvalidRequest(error.to_string())
    }
}

impl From<JsonPathError> for ConsoleError {
    fn from(error: JsonPathError) -> Self {
        Self::InvalidRequest(error.to_string())
    }
}

/// `sqlx::Error` and `ConsoleError` are both foreign to this crate, so the orphan rule needs a local
/// type between them; `?` on a query result goes through it.
pub struct DatabaseError(sqlx::Error);

impl From<sqlx::Error> for DatabaseError {
    fn from(error: sqlx::Error) -> Self {
        Self(error)
    }
}

impl From<DatabaseError> for ConsoleError {
    fn from(DatabaseError(error): DatabaseError) -> Self {
        match error {
            // The database cannot be reached (PostgreSQL down, failing over, or every connection
            // busy): a 503 the balancer and staff can retry, not a fault of the console's.
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Self::Unavailable(format!("the console's database is unavailable: {error}"))
            }
            // The database's own message names tables and constraints, not user data.
            error => Self::Internal(format!("the console's database failed: {error}")),
        }
    }
}

/// Converts any server error into the wire error (for `map_err`; `?` converts on its own).
pub fn to_console<E: Into<ConsoleError>>(error: E) -> ConsoleError {
    error.into()
}

/// A failed query as the wire error.
pub fn database(error: sqlx::Error) -> ConsoleError {
    DatabaseError(error).into()
}

/// An error answered outside a server function (middleware, plain routes): the status comes from
/// `status_code()`, the body is the same JSON a server function would send.
pub fn refusal(error: ConsoleError) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&error).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_that_cannot_be_reached_is_a_503_and_a_failed_statement_a_500() {
        assert_eq!(super::database(sqlx::Error::PoolTimedOut).status_code(), 503);
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        assert_eq!(super::database(sqlx::Error::Io(refused)).status_code(), 503);
        assert_eq!(super::database(sqlx::Error::RowNotFound).status_code(), 500);
    }

    use super::*;

    #[test]
    fn token_failures_are_bad_gateway_and_bad_paths_are_bad_requests() {
        let token = to_console(TokenError::Rejected { environment: "sandbox".into(), code: "invalid_client".into() });
        assert_eq!(token.status_code(), 502);
        assert_eq!(token.to_string(), "credentials rejected by the token endpoint for sandbox (invalid_client)");
        assert_eq!(to_console(PathError::Empty).status_code(), 400);
        assert_eq!(to_console(UpstreamError::Timeout { environment: "x".into(), seconds: 3 }).status_code(), 504);
        assert_eq!(to_console(UpstreamError::ForbiddenHeader("Cookie".into())).status_code(), 400);
        assert_eq!(database(sqlx::Error::RowNotFound).status_code(), 500);
    }

    #[test]
    fn a_refusal_answers_the_status_of_its_error_with_the_error_as_json() {
        for error in [
            ConsoleError::MisdirectedRequest("not ours".into()),
            ConsoleError::MethodNotAllowed("no TRACE".into()),
            ConsoleError::Unavailable("store down".into()),
            ConsoleError::Forbidden("cross-site".into()),
        ] {
            let response = refusal(error.clone());
            assert_eq!(response.status().as_u16(), error.status_code());
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        }
    }
}
