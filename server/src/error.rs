//! How server-side failures become the errors staff see. Each maps to one `ConsoleError`, whose
//! `status_code()` is the single place HTTP statuses are chosen.

use app::wire::ConsoleError;

use crate::curl::CurlError;
use crate::jsonpath::JsonPathError;
use crate::token::TokenError;
use crate::upstream::path::PathError;
use crate::upstream::UpstreamError;

impl From<TokenError> for ConsoleErrorOf {
    fn from(error: TokenError) -> Self {
        Self(ConsoleError::TokenUnavailable(error.to_string()))
    }
}

impl From<PathError> for ConsoleErrorOf {
    fn from(error: PathError) -> Self {
        Self(ConsoleError::InvalidRequest(error.to_string()))
    }
}

impl From<UpstreamError> for ConsoleErrorOf {
    fn from(error: UpstreamError) -> Self {
        Self(match error {
            UpstreamError::ForbiddenHeader(_) | UpstreamError::InvalidHeader(_) | UpstreamError::Method(_) => {
                ConsoleError::InvalidRequest(error.to_string())
            }
            UpstreamError::Timeout { .. } => ConsoleError::UpstreamTimeout(error.to_string()),
            UpstreamError::Unreachable { .. } => ConsoleError::UpstreamUnavailable(error.to_string()),
        })
    }
}

impl From<CurlError> for ConsoleErrorOf {
    fn from(error: CurlError) -> Self {
        Self(ConsoleError::InvalidRequest(error.to_string()))
    }
}

impl From<JsonPathError> for ConsoleErrorOf {
    fn from(error: JsonPathError) -> Self {
        Self(ConsoleError::InvalidRequest(error.to_string()))
    }
}

impl From<sqlx::Error> for ConsoleErrorOf {
    fn from(error: sqlx::Error) -> Self {
        // The database's own message names tables and constraints, not user data.
        Self(ConsoleError::Internal(format!("the console's database failed: {error}")))
    }
}

/// A local wrapper so `?` converts server errors into the wire error (orphan rules forbid
/// implementing `From` for a foreign type directly).
pub struct ConsoleErrorOf(pub ConsoleError);

impl From<ConsoleErrorOf> for ConsoleError {
    fn from(wrapper: ConsoleErrorOf) -> Self {
        wrapper.0
    }
}

/// Converts any server error into the wire error.
pub fn to_console<E: Into<ConsoleErrorOf>>(error: E) -> ConsoleError {
    error.into().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_failures_are_bad_gateway_and_bad_paths_are_bad_requests() {
        let token = to_console(TokenError::Rejected { environment: "sandbox".into(), code: "invalid_client".into() });
        assert_eq!(token.status_code(), 502);
        assert_eq!(token.to_string(), "credentials rejected by the token endpoint for sandbox (invalid_client)");
        assert_eq!(to_console(PathError::Empty).status_code(), 400);
        assert_eq!(to_console(UpstreamError::Timeout { environment: "x".into(), seconds: 3 }).status_code(), 504);
        assert_eq!(to_console(UpstreamError::ForbiddenHeader("Cookie".into())).status_code(), 400);
    }
}
