//! HS256 access tokens shaped like Cognito's client-credentials JWTs, signed with the instance key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::HmacSha256;

/// Fixed text rather than a serialized struct so the header bytes never depend on serde_json features.
const HEADER_JSON: &str = r#"{"kid":"simulator-1","alg":"HS256","typ":"JWT"}"#;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) sub: String,
    pub(crate) client_id: String,
    pub(crate) token_use: String,
    pub(crate) scope: String,
    pub(crate) auth_time: u64,
    pub(crate) iss: String,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) jti: String,
    pub(crate) version: u32,
}

impl Claims {
    pub(crate) fn new(client_id: &str, scope: String, iss: String, iat: u64, lifetime_secs: u64) -> Self {
        Self {
            sub: client_id.to_owned(),
            client_id: client_id.to_owned(),
            token_use: "access".to_owned(),
            scope,
            auth_time: iat,
            iss,
            iat,
            exp: iat.saturating_add(lifetime_secs),
            jti: uuid::Uuid::new_v4().to_string(),
            version: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerifyError {
    Malformed,
    InvalidSignature,
    Expired,
}

impl VerifyError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::InvalidSignature => "invalid signature",
            Self::Expired => "token expired",
        }
    }
}

pub(crate) fn sign(mac: &HmacSha256, claims: &Claims) -> String {
    // A struct of strings and integers always serializes; the fallback keeps the handler panic-free.
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER_JSON), URL_SAFE_NO_PAD.encode(payload));
    let mut mac = mac.clone();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

pub(crate) fn verify(mac: &HmacSha256, token: &str, now: u64) -> Result<Claims, VerifyError> {
    let mut parts = token.split('.');
    let (Some(header_segment), Some(payload_segment), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let header: Header = decode_json(header_segment)?;
    // Only HS256 is accepted, so "alg":"none" and algorithm-confusion tokens stop here.
    if header.alg != "HS256" {
        return Err(VerifyError::InvalidSignature);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| VerifyError::Malformed)?;
    let claims: Claims = decode_json(payload_segment)?;
    let mut mac = mac.clone();
    mac.update(header_segment.as_bytes());
    mac.update(b".");
    mac.update(payload_segment.as_bytes());
    mac.verify_slice(&signature).map_err(|_| VerifyError::InvalidSignature)?;
    if claims.token_use != "access" {
        return Err(VerifyError::Malformed);
    }
    if claims.exp <= now {
        return Err(VerifyError::Expired);
    }
    Ok(claims)
}

fn decode_json<T: serde::de::DeserializeOwned>(segment: &str) -> Result<T, VerifyError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| VerifyError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed)
}

/// Test and diagnostics aid: the claims of a token without checking anything.
#[cfg(test)]
pub(crate) fn decode_unverified(token: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let mut parts = token.split('.');
    let header = decode_json(parts.next()?).ok()?;
    let claims = decode_json(parts.next()?).ok()?;
    Some((header, claims))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use hmac::digest::KeyInit;

    fn key(byte: u8) -> HmacSha256 {
        <HmacSha256 as KeyInit>::new_from_slice(&[byte; 64]).unwrap()
    }

    fn claims(iat: u64, lifetime: u64) -> Claims {
        Claims::new("client", "a/read".to_owned(), "http://x/simulator-pool".to_owned(), iat, lifetime)
    }

    #[test]
    fn a_signed_token_verifies_and_round_trips_its_claims() {
        let c = claims(1_000, 3_600);
        let token = sign(&key(1), &c);
        assert_eq!(verify(&key(1), &token, 1_001), Ok(c));
    }

    #[test]
    fn the_header_is_exactly_the_cognito_like_one() {
        let token = sign(&key(1), &claims(1, 1));
        let (header, _) = decode_unverified(&token).unwrap();
        assert_eq!(header, serde_json::json!({"kid": "simulator-1", "alg": "HS256", "typ": "JWT"}));
    }

    #[test]
    fn a_token_signed_with_another_key_has_an_invalid_signature() {
        let token = sign(&key(2), &claims(1_000, 3_600));
        assert_eq!(verify(&key(1), &token, 1_001), Err(VerifyError::InvalidSignature));
    }

    #[test]
    fn a_token_is_expired_from_its_exp_second_on() {
        let token = sign(&key(1), &claims(1_000, 10));
        assert!(verify(&key(1), &token, 1_009).is_ok());
        assert_eq!(verify(&key(1), &token, 1_010), Err(VerifyError::Expired));
    }

    #[test]
    fn garbage_and_truncated_tokens_are_malformed() {
        let token = sign(&key(1), &claims(1_000, 10));
        for bad in ["", "abc", "a.b", "a.b.c", "a.b.c.d", &token[..token.len() / 2]] {
            assert_eq!(verify(&key(1), bad, 1_001), Err(VerifyError::Malformed), "{bad}");
        }
    }

    #[test]
    fn a_tampered_payload_fails_the_signature_check() {
        let token = sign(&key(1), &claims(1_000, 10));
        let parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(1_000, 1_000_000)).unwrap());
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(verify(&key(1), &tampered, 1_001), Err(VerifyError::InvalidSignature));
    }

    #[test]
    fn an_alg_none_token_is_rejected() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(1_000, 10)).unwrap());
        let token = format!("{header}.{payload}.");
        assert!(verify(&key(1), &token, 1_001).is_err());
    }
}
