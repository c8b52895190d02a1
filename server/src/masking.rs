//! Masking of response data on the server, before anything is stored, recorded or sent to a browser:
//! secrets always, personal data in demo mode. Pure: the service decides the policy and keeps originals.
//!
//! JSON bodies are rewritten in place, value by value, over the inspector's byte index, so everything
//! that is not masked (formatting, key order, duplicate keys, every digit of a number) is byte for
//! byte what the upstream sent, and a masked value keeps its JSON type.

pub mod demo;
pub mod demo_shared;
pub mod pii;
pub mod rules;
pub mod secrets;
pub mod state;
pub mod vault;

use std::collections::{BTreeMap, HashMap};

use app::inspect::index::{self, Kind, NONE};
use app::inspect::path::{jsonpath_of, locate};
use app::wire::ExecuteRequest;

use pii::Personal;
use rules::{FieldRule, PathRule};
use secrets::SECRET_MARK;

/// Masking configuration (`[masking]`), validated.
#[derive(Clone, Debug, Default)]
pub struct MaskingSettings {
    /// Demo mode for every session of this instance; staff cannot switch it off.
    pub force_demo: bool,
    /// Extra field names treated as secrets (normalized: lower case, no `_`/`-`).
    pub secret_fields: Vec<String>,
    /// JSONPath rules masked in demo mode, on top of the built-in detectors.
    pub demo_rules: Vec<PathRule>,
}

/// What to mask in one piece of data.
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    /// Demo mode: personal data too.
    pub personal: bool,
    pub settings: &'a MaskingSettings,
}

/// One secret that was masked, with its original (kept only until the service decides what to do with it).
#[derive(Clone, PartialEq, Eq)]
pub struct FoundSecret {
    pub location: String,
    pub original: String,
}

/// Where, never what: a panic message or a log line with this in it shows no secret.
impl std::fmt::Debug for FoundSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoundSecret").field("location", &self.location).field("original", &"[redacted]").finish()
    }
}

/// Everything one pass masked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub secrets: Vec<FoundSecret>,
    pub personal: BTreeMap<Personal, u64>,
}

impl Found {
    fn personal(&mut self, kind: Personal) {
        *self.personal.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: Found) {
        self.secrets.extend(other.secrets);
        for (kind, count) in other.personal {
            *self.personal.entry(kind).or_default() += count;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.personal.is_empty()
    }
}

/// Masks a body: JSON value by value, other UTF-8 text by pattern; binary bodies are left alone
/// (only the access token is removed from them, by the service). `None` when nothing changed.
pub fn mask_body(bytes: &[u8], policy: Policy<'_>) -> Option<(Vec<u8>, Found)> {
    match index::parse(bytes) {
        Ok(index) => mask_json(bytes, &index, policy),
        Err(_) => {
            let text = std::str::from_utf8(bytes).ok()?;
            mask_text(text, policy).map(|(text, found)| (text.into_bytes(), found))
        }
    }
}

/// Per container: how its descendants are masked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Inherit {
    Nothing,
    Secret,
    Rule,
}

/// Which nodes a configured demo rule names (an empty list when no rule applies).
fn rule_roots(bytes: &[u8], index: &index::Index, policy: Policy<'_>) -> Vec<bool> {
    let rules = &policy.settings.demo_rules;
    let mut roots = vec![false; if policy.personal && !rules.is_empty() { index.len() } else { 0 }];
    if roots.is_empty() {
        // No rule applies: the body is not parsed a second time (a tuple pattern would parse it
        // before looking at the flag).
        return roots;
    }
    // serde_json stops at 128 levels; rules then match nothing deeper, detectors still run.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        for steps in rules.iter().flat_map(|rule| rule.locations(&value)) {
            if let Some(id) = locate(index, bytes, &steps) {
                roots[id as usize] = true;
            }
        }
    }
    roots
}

/// `bytes` with each `(start, end)` span replaced by its text (spans in document order).
fn splice(bytes: &[u8], replacements: Vec<(usize, usize, String)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut copied = 0;
    for (start, end, text) in replacements {
        out.extend_from_slice(&bytes[copied..start]);
        out.extend_from_slice(text.as_bytes());
        copied = end;
    }
    out.extend_from_slice(&bytes[copied..]);
    out
}

fn mask_json(bytes: &[u8], index: &index::Index, policy: Policy<'_>) -> Option<(Vec<u8>, Found)> {
    if !policy.personal {
        return mask_secrets_only(bytes, index, &policy.settings.secret_fields);
    }
    let settings = policy.settings;
    let rule_roots = rule_roots(bytes, index, policy);
    let mut inherit = vec![Inherit::Nothing; index.len()];
    // Normalized label of each container: its key, or for an array item its array's label.
    let mut labels: HashMap<u32, String> = HashMap::new();
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut found = Found::default();
    for id in 0..index.len() as u32 {
        let node = *index.node(id);
        let parent = (node.parent != NONE).then_some(node.parent);
        let parent_label = parent.and_then(|p| labels.get(&p)).map(String::as_str);
        let key = match index.key(bytes, id) {
            Some(key) => Some(secrets::normalize(&key)),
            // An array item is named by its array: `"client_secrets": ["…"]`.
            None => parent_label.map(str::to_owned),
        };
        let key = key.as_deref();
        let inherited = parent.map_or(Inherit::Nothing, |p| inherit[p as usize]);
        let secret =
            inherited == Inherit::Secret || key.is_some_and(|k| secrets::is_secret_key(k, &settings.secret_fields));
        let rule =
            policy.personal && (inherited == Inherit::Rule || rule_roots.get(id as usize).copied().unwrap_or(false));
        if node.kind.is_container() {
            inherit[id as usize] = if secret {
                Inherit::Secret
            } else if rule {
                Inherit::Rule
            } else {
                Inherit::Nothing
            };
            if let Some(key) = key {
                labels.insert(id, key.to_owned());
            }
            continue;
        }
        let (start, end) = (node.start as usize, node.end as usize);
        let raw = &bytes[start..end];
        match node.kind {
            Kind::String => {
                let text = index::unescape(&raw[1..raw.len() - 1]);
                if text.is_empty() {
                    continue;
                }
                let masked = if secret {
                    secret_string(index, bytes, id, &text, &mut found)
                } else if !policy.personal {
                    None
                } else if rule {
                    Some((pii::hide_all(&text), Personal::Rule)).filter(|(m, _)| *m != text).map(|(m, kind)| {
                        found.personal(kind);
                        m
                    })
                } else {
                    mask_personal_string(&text, key, parent_label, &mut found)
                };
                if let Some(masked) = masked {
                    replacements.push((start, end, serde_json::to_string(&masked).unwrap_or_else(|_| "\"\"".into())));
                }
            }
            Kind::Number => {
                let Ok(raw) = std::str::from_utf8(raw) else { continue };
                if secret {
                    if let Some(masked) = secret_number(index, bytes, id, raw, &mut found) {
                        replacements.push((start, end, masked));
                    }
                    continue;
                }
                if !policy.personal {
                    continue;
                }
                let keep = if rule {
                    Some((0, Personal::Rule))
                } else {
                    key.and_then(|k| rules::field_rule(k, parent_label)).map(|r| match r {
                        FieldRule::Card | FieldRule::Phone => (4, r.kind()),
                        FieldRule::Name | FieldRule::Address | FieldRule::AddressCode => (0, r.kind()),
                        _ => (2, r.kind()),
                    })
                };
                if let Some((keep, kind)) = keep {
                    let masked = pii::mask_number(raw, keep);
                    if masked != raw {
                        found.personal(kind);
                        replacements.push((start, end, masked));
                    }
                }
            }
            _ => {}
        }
    }
    if replacements.is_empty() {
        return (!found.is_empty()).then(|| (bytes.to_vec(), found));
    }
    Some((splice(bytes, replacements), found))
}

/// Outside demo mode only credentials are masked, and they are found by key alone: no labels kept,
/// one buffer for every normalised key, and no string decoded unless it sits under a secret key.
/// What it masks is exactly what [`mask_json`]'s general walk masks with `personal` off.
fn mask_secrets_only(bytes: &[u8], index: &index::Index, extra: &[String]) -> Option<(Vec<u8>, Found)> {
    let mut secret_container = vec![false; index.len()];
    let mut key = String::new();
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut found = Found::default();
    for id in 0..index.len() as u32 {
        let node = *index.node(id);
        // An array item is named by its array, and a secret array already marks its items.
        let secret = (node.parent != NONE && secret_container[node.parent as usize])
            || index.key_raw(bytes, id).is_some_and(|raw| secrets::is_secret_raw_key(raw, extra, &mut key));
        if !secret {
            continue;
        }
        if node.kind.is_container() {
            secret_container[id as usize] = true;
            continue;
        }
        let (start, end) = (node.start as usize, node.end as usize);
        let raw = &bytes[start..end];
        let masked = match node.kind {
            Kind::String => {
                let text = index::unescape(&raw[1..raw.len() - 1]);
                if text.is_empty() {
                    continue;
                }
                secret_string(index, bytes, id, &text, &mut found)
                    .map(|m| serde_json::to_string(&m).unwrap_or_else(|_| "\"\"".into()))
            }
            Kind::Number => {
                std::str::from_utf8(raw).ok().and_then(|raw| secret_number(index, bytes, id, raw, &mut found))
            }
            _ => None,
        };
        if let Some(masked) = masked {
            replacements.push((start, end, masked));
        }
    }
    if replacements.is_empty() {
        return (!found.is_empty()).then(|| (bytes.to_vec(), found));
    }
    Some((splice(bytes, replacements), found))
}

/// The mark for a string under a secret key, remembering the original; `None` when it is the mark already.
fn secret_string(index: &index::Index, bytes: &[u8], id: u32, text: &str, found: &mut Found) -> Option<String> {
    (text != SECRET_MARK).then(|| {
        found.secrets.push(FoundSecret { location: jsonpath_of(index, bytes, id), original: text.to_owned() });
        SECRET_MARK.to_owned()
    })
}

/// `0` for a number under a secret key, remembering the original; `None` when it is `0` already.
fn secret_number(index: &index::Index, bytes: &[u8], id: u32, raw: &str, found: &mut Found) -> Option<String> {
    (raw != "0").then(|| {
        found.secrets.push(FoundSecret { location: jsonpath_of(index, bytes, id), original: raw.into() });
        "0".to_owned()
    })
}

/// A string value in demo mode: by its field name first, then by what it contains.
fn mask_personal_string(text: &str, key: Option<&str>, parent: Option<&str>, found: &mut Found) -> Option<String> {
    if let Some(rule) = key.and_then(|k| rules::field_rule(k, parent)) {
        let masked = apply_field_rule(rule, text);
        if masked != text {
            found.personal(detected_kind(rule, text));
            return Some(masked);
        }
        return None;
    }
    let (masked, kinds) = pii::mask_free_text(text)?;
    for kind in kinds {
        found.personal(kind);
    }
    Some(masked)
}

/// A tax id field reports CPF or CNPJ when its digits are one.
fn detected_kind(rule: FieldRule, text: &str) -> Personal {
    if rule == FieldRule::TaxId {
        let d: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
        if pii::is_valid_cpf(&d) {
            return Personal::Cpf;
        }
        if pii::is_valid_cnpj(&d) {
            return Personal::Cnpj;
        }
    }
    rule.kind()
}

fn apply_field_rule(rule: FieldRule, text: &str) -> String {
    match rule {
        FieldRule::Name => pii::initials(text),
        FieldRule::Email => pii::mask_email(text),
        FieldRule::Phone => pii::mask_phone(text),
        FieldRule::TaxId => pii::keep_last_digits(text, 2),
        FieldRule::Card => pii::keep_last_digits(text, 4),
        FieldRule::PixKey => pii::mask_pix_key(text),
        FieldRule::Account => pii::keep_last_characters(text, 2),
        FieldRule::Address => pii::initials(text),
        FieldRule::AddressCode => pii::hide_all(text),
    }
}

/// Masks text that is not JSON (or JSON cut at the response cap): secret pairs always; in demo mode
/// personal-data pairs by field name and personal data anywhere by detector.
pub fn mask_text(text: &str, policy: Policy<'_>) -> Option<(String, Found)> {
    let settings = policy.settings;
    let mut found = Found::default();
    let mut current: Option<String> = None;
    let rewritten = secrets::rewrite_pairs(text, &mut |key, value| {
        let normalized = secrets::normalize(key);
        if secrets::is_secret_key(&normalized, &settings.secret_fields) {
            if value == SECRET_MARK {
                return None;
            }
            found.secrets.push(FoundSecret { location: format!("text:{key}"), original: value.to_owned() });
            return Some(SECRET_MARK.to_owned());
        }
        if !policy.personal {
            return None;
        }
        let rule = rules::field_rule(&normalized, None)?;
        let masked = apply_field_rule(rule, value);
        (masked != value).then(|| {
            found.personal(detected_kind(rule, value));
            masked
        })
    });
    if let Some(text) = rewritten {
        current = Some(text);
    }
    if policy.personal {
        if let Some((masked, kinds)) = pii::mask_free_text(current.as_deref().unwrap_or(text)) {
            for kind in kinds {
                found.personal(kind);
            }
            current = Some(masked);
        }
    }
    current.map(|text| (text, found))
}

/// A response header: secret-named headers are masked whole; in demo mode values are scanned too.
pub fn mask_header(name: &str, value: &str, policy: Policy<'_>) -> Option<(String, Found)> {
    let mut found = Found::default();
    if secrets::is_secret_key(&secrets::normalize(name), &policy.settings.secret_fields) {
        if value.is_empty() || value == SECRET_MARK {
            return None;
        }
        found
            .secrets
            .push(FoundSecret { location: format!("header:{}", name.to_ascii_lowercase()), original: value.into() });
        return Some((SECRET_MARK.to_owned(), found));
    }
    if !policy.personal {
        return None;
    }
    mask_text(value, policy)
}

/// A single named value (query parameter, path parameter, request header) in demo mode.
pub fn mask_named_value(name: &str, value: &str, policy: Policy<'_>, found: &mut Found) -> Option<String> {
    let normalized = secrets::normalize(name);
    if secrets::is_secret_key(&normalized, &policy.settings.secret_fields) {
        return (!value.is_empty() && value != SECRET_MARK).then(|| SECRET_MARK.to_owned());
    }
    if !policy.personal {
        return None;
    }
    mask_personal_string(value, Some(&normalized), None, found)
}

/// The query of a URL shown to the browser, masked like named values. `None` when nothing changed.
pub fn mask_url(url: &str, policy: Policy<'_>) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    parsed.query()?;
    let mut found = Found::default();
    let mut changed = false;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let masked = mask_named_value(&k, &v, policy, &mut found);
            changed |= masked.is_some();
            (k.into_owned(), masked.unwrap_or_else(|| v.into_owned()))
        })
        .collect();
    if !changed {
        return None;
    }
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    Some(parsed.to_string())
}

/// A request as the browser described it, masked for showing back in demo mode (history, saved
/// requests, snippets): the body like a response body, parameters and headers by name and content.
pub fn mask_request(request: &ExecuteRequest, policy: Policy<'_>) -> ExecuteRequest {
    let mut masked = request.clone();
    let mut found = Found::default();
    for list in [&mut masked.path_params, &mut masked.query, &mut masked.headers] {
        for (name, value) in list.iter_mut() {
            if let Some(m) = mask_named_value(name, value, policy, &mut found) {
                *value = m;
            }
        }
    }
    if let Some(body) = &masked.body {
        if let Some((bytes, _)) = mask_body(body.as_bytes(), policy) {
            masked.body = Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    masked
}

/// Claims of the current token that say nothing about who the client is; demo mode keeps only these.
const PUBLIC_CLAIMS: [&str; 9] =
    ["token_use", "scope", "exp", "iat", "nbf", "auth_time", "version", "token_type", "typ"];

/// Token claims for a shared screen: identifiers (`client_id`, `sub`, `iss`, `jti`, …) keep only
/// their last four characters; times, scope and token use stay.
pub fn mask_claims(claims: &serde_json::Value) -> serde_json::Value {
    let serde_json::Value::Object(map) = claims else { return claims.clone() };
    map.iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(text) if !PUBLIC_CLAIMS.contains(&key.as_str()) => {
                    serde_json::Value::String(pii::keep_last_characters(text, 4))
                }
                serde_json::Value::Object(_) | serde_json::Value::Array(_)
                    if !PUBLIC_CLAIMS.contains(&key.as_str()) =>
                {
                    serde_json::Value::String(pii::HIDDEN.to_string().repeat(8))
                }
                other => other.clone(),
            };
            (key.clone(), value)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The report's per-kind counts, in the fixed order of `Personal::ALL`.
pub fn personal_counts(found: &Found) -> Vec<(String, u64)> {
    Personal::ALL.iter().filter_map(|kind| found.personal.get(kind).map(|n| (kind.as_str().to_owned(), *n))).collect()
}

#[cfg(test)]
mod tests;
