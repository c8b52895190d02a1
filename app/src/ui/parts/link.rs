//! Links that carry the form: environment, endpoint (or raw method and path), parameter values and
//! a small body, in the page's query string (`?env=sandbox&op=listCharges&q.wallet_uuid=…`).
//! Opening such a link fills the form; it never sends anything by itself.

use crate::wire::ExecuteRequest;

/// Bodies longer than this stay out of links (chat tools cut long URLs).
pub const MAX_LINK_BODY: usize = 1_500;

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The query string (without `?`) that reopens this request. The Idempotency-Key is left out on
/// purpose: a link opened later should send a new operation, not replay an old one.
pub fn to_query(request: &ExecuteRequest) -> String {
    let mut pairs: Vec<(String, String)> = vec![("env".into(), request.environment.clone())];
    match &request.endpoint_id {
        Some(id) => pairs.push(("op".into(), id.clone())),
        None => {
            pairs.push(("method".into(), request.method.clone()));
            pairs.push(("path".into(), request.path.clone()));
        }
    }
    pairs.extend(request.path_params.iter().map(|(k, v)| (format!("p.{k}"), v.clone())));
    pairs.extend(request.query.iter().map(|(k, v)| (format!("q.{k}"), v.clone())));
    pairs.extend(
        request
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(super::request::IDEMPOTENCY_KEY))
            .map(|(k, v)| (format!("h.{k}"), v.clone())),
    );
    if let Some(body) = request.body.as_ref().filter(|b| b.len() <= MAX_LINK_BODY) {
        pairs.push(("body".into(), body.clone()));
    }
    pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect::<Vec<_>>().join("&")
}

/// The request a link describes, or `None` when the query string carries no form
/// (no `op` and no `path`). `environment` is empty when the link names none.
pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<ExecuteRequest> {
    let mut request = ExecuteRequest::default();
    let mut has_form = false;
    for (key, value) in pairs {
        let value = value.to_owned();
        match key {
            "env" => request.environment = value,
            "op" => {
                request.endpoint_id = Some(value);
                has_form = true;
            }
            "method" => request.method = value.to_ascii_uppercase(),
            "path" => {
                request.path = value;
                has_form = true;
            }
            "body" => request.body = Some(value),
            _ => {
                if let Some(name) = key.strip_prefix("p.") {
                    request.path_params.push((name.to_owned(), value));
                } else if let Some(name) = key.strip_prefix("q.") {
                    request.query.push((name.to_owned(), value));
                } else if let Some(name) = key.strip_prefix("h.") {
                    request.headers.push((name.to_owned(), value));
                }
            }
        }
    }
    if request.method.is_empty() {
        request.method = "GET".into();
    }
    has_form.then_some(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let decode = |s: &str| {
                    let bytes: Vec<u8> = (0..s.len())
                        .scan(0usize, |skip, i| {
                            if *skip > 0 {
                                *skip -= 1;
                                return Some(None);
                            }
                            if &s[i..i + 1] == "%" {
                                *skip = 2;
                                Some(Some(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap()))
                            } else {
                                Some(Some(s.as_bytes()[i]))
                            }
                        })
                        .flatten()
                        .collect();
                    String::from_utf8(bytes).unwrap()
                };
                (decode(k), decode(v))
            })
            .collect()
    }

    #[test]
    fn a_request_survives_a_round_trip_through_a_link_except_its_idempotency_key() {
        let request = ExecuteRequest {
            environment: "sandbox".into(),
            method: "POST".into(),
            path: "/bank/wallet/charge/".into(),
            path_params: vec![],
            query: vec![("wallet_uuid".into(), "w 1&x=é".into())],
            headers: vec![("Idempotency-Key".into(), "k".into()), ("X-Partner".into(), "p".into())],
            body: Some("{\"a\": 1}".into()),
            endpoint_id: Some("createCharge".into()),
            ..ExecuteRequest::default()
        };
        let query = to_query(&request);
        assert!(query.starts_with("env=sandbox&op=createCharge&q.wallet_uuid=w%201%26x%3D%C3%A9"), "{query}");
        let pairs = decode(&query);
        let back = from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!(back.headers, vec![("X-Partner".to_owned(), "p".to_owned())]);
        assert_eq!(back.query, request.query);
        assert_eq!(back.body, request.body);
        assert_eq!(back.endpoint_id, request.endpoint_id);
    }

    #[test]
    fn raw_requests_carry_method_and_path_and_large_bodies_stay_out() {
        let request = ExecuteRequest {
            environment: "simulator".into(),
            method: "PUT".into(),
            path: "/custom/{id}".into(),
            path_params: vec![("id".into(), "7".into())],
            body: Some("x".repeat(MAX_LINK_BODY + 1)),
            ..ExecuteRequest::default()
        };
        let query = to_query(&request);
        assert_eq!(query, "env=simulator&method=PUT&path=%2Fcustom%2F%7Bid%7D&p.id=7");
        let back = from_query(decode(&query).iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!((back.method.as_str(), back.path.as_str()), ("PUT", "/custom/{id}"));
        assert_eq!(back.path_params, vec![("id".to_owned(), "7".to_owned())]);
    }

    #[test]
    fn a_query_without_a_form_is_not_a_link() {
        assert_eq!(from_query([("env", "sandbox")]), None);
        assert_eq!(from_query([]), None);
    }
}
