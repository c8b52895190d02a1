//! Compare links: `/compare?left=…&right=…` plus the shared request in the console's link format
//! (`op=…&q.limit=…`), per-side overrides (`l.q.wallet_uuid=…`, `r.p.charge_uuid=…`), the array
//! key (`key=…`) and shape-only mode (`shape=1`). Opening one fills the form; nothing is sent.

use crate::ui::parts::link;
use crate::wire::{ExecuteRequest, ParamLocation};

/// One side's replacement for a shared parameter value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub location: ParamLocation,
    pub name: String,
    pub value: String,
}

/// Everything a compare link carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompareLink {
    pub left: Option<String>,
    pub right: Option<String>,
    pub request: Option<ExecuteRequest>,
    pub left_overrides: Vec<Override>,
    pub right_overrides: Vec<Override>,
    pub array_key: Option<String>,
    pub shape_only: bool,
    /// A history entry to show (`history=42`).
    pub history: Option<i64>,
}

fn prefix(location: ParamLocation) -> &'static str {
    match location {
        ParamLocation::Path => "p",
        ParamLocation::Query => "q",
        ParamLocation::Header => "h",
    }
}

fn location(prefix: &str) -> Option<ParamLocation> {
    match prefix {
        "p" => Some(ParamLocation::Path),
        "q" => Some(ParamLocation::Query),
        "h" => Some(ParamLocation::Header),
        _ => None,
    }
}

/// The query string (without `?`) that reopens this compare.
pub fn to_query(compare: &CompareLink) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(left) = &compare.left {
        pairs.push(("left".into(), left.clone()));
    }
    if let Some(right) = &compare.right {
        pairs.push(("right".into(), right.clone()));
    }
    let mut out: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", link::encode_component(k), link::encode_component(v))).collect();
    if let Some(request) = compare.request.as_ref().filter(|r| !r.path.is_empty() || r.endpoint_id.is_some()) {
        // The console's own link format, minus its environment (a compare has two).
        let shared = link::to_query(request);
        out.extend(shared.split('&').filter(|pair| !pair.starts_with("env=")).map(str::to_owned));
    }
    for (side, overrides) in [("l", &compare.left_overrides), ("r", &compare.right_overrides)] {
        for o in overrides.iter().filter(|o| !o.value.is_empty()) {
            let key = format!("{side}.{}.{}", prefix(o.location), o.name);
            out.push(format!("{}={}", link::encode_component(&key), link::encode_component(&o.value)));
        }
    }
    if let Some(key) = compare.array_key.as_ref().filter(|k| !k.trim().is_empty()) {
        out.push(format!("key={}", link::encode_component(key.trim())));
    }
    if compare.shape_only {
        out.push("shape=1".into());
    }
    out.join("&")
}

/// The compare a link describes (decoded pairs, as the router hands them over).
pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> CompareLink {
    let mut compare = CompareLink::default();
    let mut shared: Vec<(&str, &str)> = Vec::new();
    for (key, value) in pairs {
        match key {
            "left" => compare.left = Some(value.to_owned()),
            "right" => compare.right = Some(value.to_owned()),
            "key" => compare.array_key = Some(value.to_owned()).filter(|k| !k.trim().is_empty()),
            "shape" => compare.shape_only = value == "1" || value == "true",
            "history" => compare.history = value.parse().ok(),
            "env" => {}
            _ => {
                let side = key
                    .strip_prefix("l.")
                    .map(|rest| (true, rest))
                    .or(key.strip_prefix("r.").map(|rest| (false, rest)));
                match side.and_then(|(left, rest)| {
                    let (loc, name) = rest.split_once('.')?;
                    Some((left, location(loc)?, name))
                }) {
                    Some((left, location, name)) if !name.is_empty() => {
                        let o = Override { location, name: name.to_owned(), value: value.to_owned() };
                        if left {
                            compare.left_overrides.push(o);
                        } else {
                            compare.right_overrides.push(o);
                        }
                    }
                    _ => shared.push((key, value)),
                }
            }
        }
    }
    compare.request = link::from_query(shared);
    compare
}

/// One side's request: the shared one with this side's environment and overrides applied.
pub fn side_request(shared: &ExecuteRequest, environment: &str, overrides: &[Override]) -> ExecuteRequest {
    let mut request = ExecuteRequest { environment: environment.to_owned(), ..shared.clone() };
    for o in overrides.iter().filter(|o| !o.value.is_empty()) {
        let list = match o.location {
            ParamLocation::Path => &mut request.path_params,
            ParamLocation::Query => &mut request.query,
            ParamLocation::Header => &mut request.headers,
        };
        let header = o.location == ParamLocation::Header;
        match list
            .iter_mut()
            .find(|(name, _)| if header { name.eq_ignore_ascii_case(&o.name) } else { *name == o.name })
        {
            Some(pair) => pair.1 = o.value.clone(),
            None => list.push((o.name.clone(), o.value.clone())),
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(query: &str) -> Vec<(String, String)> {
        query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (percent(k), percent(v))).collect()
    }

    fn percent(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_compare_link_round_trips_environments_request_overrides_and_options() {
        let compare = CompareLink {
            left: Some("simulator".into()),
            right: Some("simulator-production".into()),
            request: Some(ExecuteRequest {
                method: "GET".into(),
                path: "/bank/wallet/charges/".into(),
                endpoint_id: Some("listCharges".into()),
                query: vec![("limit".into(), "5".into())],
                ..ExecuteRequest::default()
            }),
            left_overrides: vec![Override {
                location: ParamLocation::Query,
                name: "wallet_uuid".into(),
                value: "a b".into(),
            }],
            right_overrides: vec![Override { location: ParamLocation::Path, name: "id".into(), value: "x/y".into() }],
            array_key: Some("charge_uuid".into()),
            shape_only: true,
            history: None,
        };
        let query = to_query(&compare);
        assert!(query.starts_with("left=simulator&right=simulator-production&op=listCharges"), "{query}");
        assert!(!query.contains("env="), "{query}");
        let pairs = decode(&query);
        let back = from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(back.left_overrides, compare.left_overrides);
        assert_eq!(back.right_overrides, compare.right_overrides);
        assert_eq!(back.array_key.as_deref(), Some("charge_uuid"));
        assert!(back.shape_only);
        let request = back.request.unwrap();
        assert_eq!(request.endpoint_id.as_deref(), Some("listCharges"));
        assert_eq!(request.query, vec![("limit".to_owned(), "5".to_owned())]);
    }

    #[test]
    fn overrides_replace_shared_values_on_their_side_only() {
        let shared = ExecuteRequest {
            method: "GET".into(),
            path: "/bank/wallet/".into(),
            query: vec![("wallet_uuid".into(), "shared".into())],
            headers: vec![("X-Partner".into(), "p".into())],
            ..ExecuteRequest::default()
        };
        let overrides = vec![
            Override { location: ParamLocation::Query, name: "wallet_uuid".into(), value: "prod-id".into() },
            Override { location: ParamLocation::Header, name: "x-partner".into(), value: "q".into() },
            Override { location: ParamLocation::Query, name: "empty".into(), value: String::new() },
        ];
        let right = side_request(&shared, "production", &overrides);
        assert_eq!(right.environment, "production");
        assert_eq!(right.query, vec![("wallet_uuid".to_owned(), "prod-id".to_owned())]);
        assert_eq!(right.headers, vec![("X-Partner".to_owned(), "q".to_owned())]);
        let left = side_request(&shared, "sandbox", &[]);
        assert_eq!(left.query, shared.query);
    }

    #[test]
    fn a_history_link_names_its_entry() {
        let back = from_query([("history", "42")]);
        assert_eq!(back.history, Some(42));
        assert!(back.request.is_none());
    }
}
