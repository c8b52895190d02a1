//! The simulator's production-like data set under `/production/api/v1`: the same API and records as
//! `/api/v1`, reshaped deterministically the way two real deployments drift apart, so a compare of
//! the two shows something out of the box.
//!
//! Charges: `installment_count` is a string (a type change), `description` is missing, an
//! `acquirer_reference` is added, and every third pending charge reads `confirmed`. Wallets: the
//! balance is one cent higher. Every response carries `x-a55-deployment: production`.
//!
//! Its OpenAPI document (`spec_drift`) differs from the sandbox's in exactly these known ways, as
//! the console's spec drift lists them (sandbox → production): `GET /bank/wallet/payout/` is only in
//! production (operation added); `limit` of `GET /bank/wallet/charges/` is required (parameter now
//! required); a charge's `installment_count` is a string (type changed); a charge's `status` has no
//! `refunded` (enum value removed); and that list no longer documents `429` (response code removed).

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use serde_json::Value;

const DEPLOYMENT: HeaderName = HeaderName::from_static("x-a55-deployment");
/// Larger bodies pass through unchanged (the large-list generator goes up to 50 MB).
const MAX_RESHAPED: usize = 64 * 1024 * 1024;

/// Marks a production response the reshaping leaves alone (the OpenAPI document).
#[derive(Clone, Copy, Debug)]
pub(super) struct Untouched;

/// The known spec drifts (see the module's description), applied to the sandbox's document.
pub(super) fn spec_drift(document: &mut Value) {
    let schemas = "/components/schemas/Charge/properties";
    if let Some(count) = document.pointer_mut(&format!("{schemas}/installment_count")) {
        *count = serde_json::json!({"type": "string"});
    }
    if let Some(Value::Array(statuses)) = document.pointer_mut(&format!("{schemas}/status/enum")) {
        statuses.retain(|s| s != "refunded");
    }
    let charges = "/paths/~1bank~1wallet~1charges~1/get";
    if let Some(Value::Array(parameters)) = document.pointer_mut(&format!("{charges}/parameters")) {
        for parameter in parameters.iter_mut().filter(|p| p["name"] == "limit") {
            parameter["required"] = Value::Bool(true);
        }
    }
    if let Some(Value::Object(responses)) = document.pointer_mut(&format!("{charges}/responses")) {
        responses.shift_remove("429");
    }
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        paths.insert(
            "/bank/wallet/payout/".into(),
            serde_json::json!({"get": {
                "operationId": "listPayouts", "tags": ["Payouts"], "summary": "List payouts",
                "responses": {"200": {"description": "OK", "content": {"application/json": {}}}}
            }}),
        );
    }
}

/// Response layer of the production routes.
pub(super) async fn reshape(State(simulator): State<super::Simulator>, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(DEPLOYMENT, HeaderValue::from_static("production"));
    if parts.extensions.get::<Untouched>().is_some() {
        return Response::from_parts(parts, body);
    }
    let is_json = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || !parts.status.is_success() {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = to_bytes(body, MAX_RESHAPED).await else {
        parts.status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::from("production body too large to reshape"));
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    drift(&mut value);
    for field in simulator.production_removed() {
        remove_field(&mut value, &field);
    }
    let out = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

/// Removes `field` from every object in `value` (the test aid `Simulator::drop_production_field`).
fn remove_field(value: &mut Value, field: &str) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| remove_field(v, field)),
        Value::Object(map) => {
            map.shift_remove(field);
            map.values_mut().for_each(|v| remove_field(v, field));
        }
        _ => {}
    }
}

/// A small deterministic number from an id, so the same record always drifts the same way.
fn bucket(id: &str) -> u32 {
    id.bytes().fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(u32::from(b)))
}

pub(super) fn drift(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(drift),
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("charge_uuid").cloned().as_ref() {
                if map.contains_key("installment_count") {
                    if let Some(count) = map.get("installment_count").and_then(Value::as_u64) {
                        map.insert("installment_count".into(), Value::String(count.to_string()));
                    }
                    map.shift_remove("description");
                    let short: String = id.chars().take(8).collect();
                    map.insert("acquirer_reference".into(), Value::String(format!("PRD-{short}")));
                    if map.get("status").and_then(Value::as_str) == Some("pending") && bucket(id).is_multiple_of(3) {
                        map.insert("status".into(), Value::String("confirmed".into()));
                    }
                }
            } else if map.contains_key("wallet_uuid") {
                if let Some(Value::Object(balance)) = map.get_mut("balance") {
                    for amount in balance.values_mut() {
                        if let Some(n) = amount.as_f64() {
                            *amount = serde_json::json!(((n * 100.0).round() + 1.0) / 100.0);
                        }
                    }
                }
            }
            map.values_mut().for_each(drift);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn charges_drift_by_type_missing_and_added_fields_and_the_same_way_every_time() {
        let mut charge =
            json!({"charge_uuid": "0a1b2c3d-x", "installment_count": 3, "description": "d", "status": "paid"});
        drift(&mut charge);
        assert_eq!(charge["installment_count"], json!("3"));
        assert!(charge.get("description").is_none());
        assert_eq!(charge["acquirer_reference"], json!("PRD-0a1b2c3d"));
        let mut again =
            json!({"charge_uuid": "0a1b2c3d-x", "installment_count": 3, "description": "d", "status": "paid"});
        drift(&mut again);
        assert_eq!(again, charge);
        let mut wallet = json!({"wallet_uuid": "w", "balance": {"available": 10.5}});
        drift(&mut wallet);
        assert_eq!(wallet["balance"]["available"], json!(10.51));
    }
}
