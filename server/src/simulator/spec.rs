//! The simulator's own OpenAPI document at `/api/v1/swagger.json`, standing in for the one a55
//! publishes: a few operations the bundled catalog also has, plus simulator-only ones, so that the
//! console's live-spec loading and merging are exercised end to end.

use axum::Json;
use serde_json::{json, Value};

pub(super) async fn swagger() -> Json<Value> {
    Json(document())
}

pub(crate) fn document() -> Value {
    let wallet_uuid = json!({
        "name": "wallet_uuid", "in": "query", "required": true,
        "schema": {"type": "string", "format": "uuid"}
    });
    let ok = json!({"200": {"description": "OK", "content": {"application/json": {}}}});
    json!({
        "openapi": "3.0.3",
        "info": {"title": "a55 simulator", "version": "1"},
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/wallets": {
                "get": {"operationId": "listWallets", "tags": ["Wallets"], "summary": "List wallets", "responses": ok}
            },
            "/bank/wallet/charges/": {
                "get": {
                    "operationId": "listCharges", "tags": ["Charges"], "summary": "List charges",
                    "parameters": [wallet_uuid],
                    "responses": ok
                }
            },
            "/sim/large": {
                "get": {
                    "operationId": "simLargeChargeList",
                    "tags": ["Simulator"],
                    "summary": "A large charge list (simulator only)",
                    "description": "Returns a deterministic a55-like charge list of about `mb` megabytes.",
                    "parameters": [
                        {"name": "mb", "in": "query", "required": false,
                         "schema": {"type": "number", "default": 1, "minimum": super::large::MIN_MB, "maximum": super::large::MAX_MB}},
                        {"name": "batch", "in": "query", "required": false,
                         "schema": {"type": "integer", "default": 1}}
                    ],
                    "responses": ok
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_simulator_spec_is_a_valid_openapi_document_the_catalog_reads() {
        let text = super::document().to_string();
        let endpoints = crate::catalog::parse_document("simulator", &text).unwrap();
        let ids: Vec<&str> = endpoints.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["listWallets", "listCharges", "simLargeChargeList"]);
        assert!(endpoints.iter().all(|e| e.needs_token));
    }
}
