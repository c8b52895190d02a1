//! Reading the person out of a verified ID token: the claim that names them and the one listing
//! their groups, both configurable dotted paths (`email`, `realm_access.roles`).

use base64::Engine as _;
use serde_json::Value;

/// The payload of a compact JWT (only ever called on one whose signature was checked).
pub fn payload(jwt: &str) -> Option<Value> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The value at a dotted path.
pub fn at<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(claims, |value, key| value.get(key))
}

/// A group claim as a list: an array of strings, or one string (some IdPs send a single group
/// as a string, some a space-separated list).
pub fn groups(claims: &Value, path: &str) -> Vec<String> {
    match at(claims, path) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The person's name for the console: the claim as text, if it is a usable staff name (the same
/// characters as local accounts, so audit rows and ownership read the same).
pub fn name(claims: &Value, path: &str) -> Result<String, String> {
    let Some(value) = at(claims, path) else {
        return Err(format!("the ID token has no {path} claim to name you by"));
    };
    let Some(text) = value.as_str().map(str::trim) else {
        return Err(format!("the ID token's {path} claim is not text"));
    };
    let usable = !text.is_empty()
        && text.len() <= 128
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+'));
    if usable {
        Ok(text.to_lowercase())
    } else {
        Err(format!("the ID token's {path} claim is not a usable name (1-128 of a-z, 0-9, '.', '-', '_', '@', '+')"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_are_found_by_dotted_path_and_groups_come_as_arrays_or_strings() {
        let claims = json!({
            "email": "Ana@Example.com",
            "groups": ["ops", 7, "leads"],
            "realm_access": {"roles": ["admin"]},
            "scope_groups": "a b",
        });
        assert_eq!(groups(&claims, "groups"), vec!["ops", "leads"]);
        assert_eq!(groups(&claims, "realm_access.roles"), vec!["admin"]);
        assert_eq!(groups(&claims, "scope_groups"), vec!["a", "b"]);
        assert!(groups(&claims, "missing.path").is_empty());
        assert_eq!(name(&claims, "email").unwrap(), "ana@example.com");
    }

    #[test]
    fn a_name_claim_that_is_missing_not_text_or_not_a_plain_name_is_refused_with_the_reason() {
        let claims = json!({"n": 5, "weird": "ana\u{202e}moc", "spaced": "a b", "long": "x".repeat(129)});
        assert!(name(&claims, "email").unwrap_err().contains("no email claim"));
        assert!(name(&claims, "n").unwrap_err().contains("not text"));
        for path in ["weird", "spaced", "long"] {
            assert!(name(&claims, path).unwrap_err().contains("not a usable name"), "{path}");
        }
    }

    #[test]
    fn the_payload_of_a_compact_token_is_decoded() {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert_eq!(payload(&format!("h.{body}.s")), Some(json!({"sub": "x"})));
        assert_eq!(payload("nonsense"), None);
    }
}
