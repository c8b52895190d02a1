//! Secret rules (always on): which field names carry credentials, and `key=value` pairs in text bodies.

/// What replaces a secret value; a value already equal to it is not masked (or kept) again.
pub const SECRET_MARK: &str = "[secret masked by the console]";

/// Field names (lower case, without `_`, `-` or spaces) whose values are credentials.
const SECRET_KEYS: [&str; 22] = [
    "clientsecret",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "sessiontoken",
    "bearertoken",
    "authtoken",
    "authorization",
    "password",
    "passwd",
    "senha",
    "secret",
    "apikey",
    "xapikey",
    "privatekey",
    "credentials",
    "credential",
    "cvv",
    "cvc",
    "cardcvv",
    "securitycode",
    "pin",
];

/// `client_secret`, `Client-Secret` and `clientSecret` all read `clientsecret`.
pub fn normalize(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    normalize_into(&mut out, key);
    out
}

/// [`normalize`] into a buffer the caller reuses: masking normalises every key of a body, and one
/// allocation per key was most of what a key cost.
pub fn normalize_into(out: &mut String, key: &str) {
    let dropped = |c: char| matches!(c, '_' | '-' | ' ' | '.');
    out.clear();
    if key.is_ascii() {
        out.extend(key.bytes().filter(|&b| !dropped(char::from(b))).map(|b| char::from(b.to_ascii_lowercase())));
        return;
    }
    out.extend(key.chars().filter(|&c| !dropped(c)).flat_map(char::to_lowercase));
}

/// Whether a JSON key, as it sits in the body between its quotes, names a credential. A short key
/// of plain ASCII without escapes (nearly every key) is normalised into a buffer on the stack and
/// judged as bytes; masking asks this of every key of every answer. Others go the long way.
pub fn is_secret_raw_key(raw: &[u8], extra: &[String], spare: &mut String) -> bool {
    const SHORT: usize = 64;
    if raw.len() > SHORT || !raw.is_ascii() || raw.contains(&b'\\') {
        normalize_into(spare, &app::inspect::index::unescape(raw));
        return is_secret_key(spare, extra);
    }
    // Most keys (`id`, `status`, `amount`) end in two letters no credential name ends in: they are
    // told apart here without being normalised.
    if extra.is_empty() && last_two_normalized(raw).is_some_and(|tail| !SECRET_TAILS.contains(&tail)) {
        return false;
    }
    let mut buf = [0u8; SHORT];
    let mut len = 0;
    for &b in raw {
        buf[len] = b.to_ascii_lowercase();
        len += usize::from(!matches!(b, b'_' | b'-' | b' ' | b'.'));
    }
    is_secret_bytes(&buf[..len], extra)
}

/// Whether a field (normalized name) carries a credential. `extra` are configured names, normalized.
pub fn is_secret_key(normalized: &str, extra: &[String]) -> bool {
    is_secret_bytes(normalized.as_bytes(), extra)
}

fn is_secret_bytes(normalized: &[u8], extra: &[String]) -> bool {
    SECRET_KEYS.iter().any(|k| k.as_bytes() == normalized)
        || SECRET_ENDINGS.iter().any(|end| normalized.ends_with(end.as_bytes()))
        || extra.iter().any(|e| e.as_bytes() == normalized)
}

/// Normalised names ending in one of these carry credentials too (`webhook_secret`, `db_password`).
const SECRET_ENDINGS: [&str; 4] = ["secret", "password", "apikey", "privatekey"];

/// The last two bytes of every name in [`SECRET_KEYS`] and [`SECRET_ENDINGS`]: a normalised key
/// ending in any other pair is none of them.
const SECRET_TAILS: [[u8; 2]; SECRET_KEYS.len() + SECRET_ENDINGS.len()] = {
    let mut tails = [[0u8; 2]; SECRET_KEYS.len() + SECRET_ENDINGS.len()];
    let mut i = 0;
    while i < tails.len() {
        let name = if i < SECRET_KEYS.len() { SECRET_KEYS[i] } else { SECRET_ENDINGS[i - SECRET_KEYS.len()] };
        let bytes = name.as_bytes();
        tails[i] = [bytes[bytes.len() - 2], bytes[bytes.len() - 1]];
        i += 1;
    }
    tails
};

/// The last two bytes of an ASCII key as [`normalize`] would leave them (lower case, separators
/// dropped), or `None` when fewer than two remain.
fn last_two_normalized(raw: &[u8]) -> Option<[u8; 2]> {
    let mut kept = raw.iter().rev().filter(|b| !matches!(b, b'_' | b'-' | b' ' | b'.')).map(u8::to_ascii_lowercase);
    let last = kept.next()?;
    Some([kept.next()?, last])
}

/// Finds `key=value`, `key: value` and `"key": "value"` pairs in text that is not JSON (form-encoded
/// answers, logs, JSON cut at the response cap) and lets `mask` replace each value (`None` keeps it).
/// Returns the rewritten text, or `None` when nothing was replaced.
pub fn rewrite_pairs(text: &str, mask: &mut dyn FnMut(&str, &str) -> Option<String>) -> Option<String> {
    let bytes = text.as_bytes();
    let is_key_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_key_char(bytes[i]) || (i > 0 && is_key_char(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < bytes.len() && is_key_char(bytes[i]) {
            i += 1;
        }
        let key = &text[key_start..i];
        let mut j = i;
        if bytes.get(j) == Some(&b'"') {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        if !matches!(bytes.get(j), Some(b'=' | b':')) {
            continue;
        }
        j += 1;
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        let (value_start, value_end) = if bytes.get(j) == Some(&b'"') {
            let start = j + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            (start, end.min(bytes.len()))
        } else {
            let start = j;
            let mut end = start;
            while end < bytes.len() && !b"&;, \t\r\n\"'}<".contains(&bytes[end]) {
                end += 1;
            }
            (start, end)
        };
        let value = &text[value_start..value_end];
        if value.is_empty() || value.starts_with('{') || value.starts_with('[') {
            continue;
        }
        if let Some(masked) = mask(key, value) {
            out.push_str(&text[copied..value_start]);
            out.push_str(&masked);
            copied = value_end;
            changed = true;
        }
        i = value_end.max(i);
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_json_key_is_judged_like_its_decoded_text() {
        let mut spare = String::new();
        let long_secret = format!("{}_client_secret", "x".repeat(80));
        let long_plain = format!("{}_charge", "x".repeat(80));
        for (raw, decoded) in [
            (&br"Client_Secret"[..], "Client_Secret"),
            (br"api-key", "api-key"),
            (br"pass\u0077ord", "password"),
            (br"x\\u005fapi_key", "x\\u005fapi_key"),
            (br"charge_uuid", "charge_uuid"),
            (br"Merchant.Pin-Code", "Merchant.Pin-Code"),
            ("Sen\u{e7}a_Secr\u{c9}ta".as_bytes(), "Sen\u{e7}a_Secr\u{c9}ta"),
            (long_secret.as_bytes(), long_secret.as_str()),
            (long_plain.as_bytes(), long_plain.as_str()),
        ] {
            let extra = ["merchantpincode".to_owned()];
            assert_eq!(
                is_secret_raw_key(raw, &extra, &mut spare),
                is_secret_key(&normalize(decoded), &extra),
                "{decoded}"
            );
        }
        assert!(is_secret_raw_key(br"pass\u0077ord", &[], &mut spare));
        assert!(is_secret_raw_key(long_secret.as_bytes(), &[], &mut spare));
        assert!(!is_secret_raw_key(br"charge_uuid", &[], &mut spare));
    }

    #[test]
    fn the_quick_refusal_by_last_two_letters_never_disagrees_with_the_full_check() {
        let mut spare = String::new();
        let mut names: Vec<String> = SECRET_KEYS.iter().chain(SECRET_ENDINGS.iter()).map(|k| k.to_string()).collect();
        names.extend(
            ["id", "uuid", "status", "amount", "description", "x", "", "_", "p_i_n", "Pi.N", "cv-v"].map(String::from),
        );
        let mut keys = Vec::new();
        for name in &names {
            for prefix in ["", "my_", "X-", "card."] {
                for suffix in ["", "_", "-.", " "] {
                    keys.push(format!("{prefix}{name}{suffix}"));
                    keys.push(format!("{prefix}{}{suffix}", name.to_ascii_uppercase()));
                    // A separator inside the last two letters: `passwor_d`.
                    if name.len() >= 2 {
                        let (head, tail) = name.split_at(name.len() - 1);
                        keys.push(format!("{prefix}{head}_{tail}{suffix}"));
                    }
                    // One letter changed at the end: `passworx` is not a credential name.
                    if let Some(head) = name.get(..name.len().saturating_sub(1)) {
                        keys.push(format!("{prefix}{head}x{suffix}"));
                    }
                }
            }
        }
        let mut secret = 0;
        for key in &keys {
            let full = is_secret_key(&normalize(key), &[]);
            assert_eq!(is_secret_raw_key(key.as_bytes(), &[], &mut spare), full, "{key:?}");
            secret += usize::from(full);
        }
        assert!(
            secret > keys.len() / 4 && secret < keys.len() / 2,
            "both answers are exercised: {secret} of {}",
            keys.len()
        );
    }

    #[test]
    fn credential_field_names_are_recognised_in_any_spelling() {
        for key in [
            "client_secret",
            "clientSecret",
            "Client-Secret",
            "access_token",
            "refresh_token",
            "id_token",
            "password",
            "new_password",
            "secret",
            "webhook_secret",
            "api_key",
            "X-Api-Key",
            "credentials",
            "card_cvv",
        ] {
            assert!(is_secret_key(&normalize(key), &[]), "{key}");
        }
        for key in ["client_id", "token_type", "expires_in", "charge_uuid", "payer_name", "status", "description"] {
            assert!(!is_secret_key(&normalize(key), &[]), "{key}");
        }
        assert!(is_secret_key(&normalize("merchant_pin_code"), &["merchantpincode".into()]));
    }

    fn mask_secrets(text: &str) -> Option<(String, Vec<String>)> {
        let mut found = Vec::new();
        let masked = rewrite_pairs(text, &mut |key, value| {
            (is_secret_key(&normalize(key), &[]) && value != SECRET_MARK).then(|| {
                found.push(value.to_owned());
                SECRET_MARK.to_owned()
            })
        })?;
        Some((masked, found))
    }

    #[test]
    fn secret_pairs_in_text_bodies_are_masked_and_others_stay() {
        let (masked, found) = mask_secrets("grant=ok&client_secret=s3cr3t&scope=api access_token: eyJabc.def").unwrap();
        assert_eq!(masked, format!("grant=ok&client_secret={SECRET_MARK}&scope=api access_token: {SECRET_MARK}"));
        assert_eq!(found, ["s3cr3t", "eyJabc.def"]);
        let (masked, _) = mask_secrets(r#"{"password": "hunter2", "client_secret":"abc"#).unwrap();
        assert_eq!(masked, format!(r#"{{"password": "{SECRET_MARK}", "client_secret":"{SECRET_MARK}"#));
        assert!(mask_secrets(&masked).is_none(), "masked text is left as it is");
        assert!(mask_secrets("token_type=Bearer&expires_in=3600").is_none());
    }
}
