//! The simulator's own OpenAPI document at `/api/v1/swagger.json`, standing in for the one a55
//! publishes: a few operations the bundled catalog also has, plus simulator-only ones, so that the
//! console's live-spec loading and merging are exercised end to end. The production twin serves
//! its own copy with the known spec drifts of `production.rs`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::production::{self, Untouched};

pub(super) async fn swagger() -> Json<Value> {
    Json(document())
}

/// `/production/api/v1/swagger.json`: production's document, left alone by the response reshaping
/// (it is a description of the data, not data).
pub(super) async fn production_swagger(State(simulator): State<super::Simulator>) -> impl IntoResponse {
    let mut document = document();
    production::spec_drift(&mut document);
    for (method, path) in simulator.production_dropped_operations() {
        if let Some(Value::Object(item)) =
            document.pointer_mut(&format!("/paths/{}", path.replace('~', "~0").replace('/', "~1")))
        {
            item.shift_remove(&method.to_ascii_lowercase());
        }
    }
    (Extension(Untouched), Json(document))
}

pub(crate) fn document() -> Value {
    let wallet_uuid = json!({
        "name": "wallet_uuid", "in": "query", "required": true,
        "schema": {"type": "string", "format": "uuid"}
    });
    let ok = json!({"200": {"description": "OK", "content": {"application/json": {}}}});
    let charge_list = json!({
        "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChargeList"}}}},
        "429": {"description": "Too many requests"}
    });
    json!({
        "openapi": "3.0.3",
        "info": {"title": "a55 simulator", "version": "1"},
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "ChargeList": {"type": "object", "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/Charge"}},
                    "next": {"type": "string", "nullable": true}
                }},
                "Charge": {"type": "object", "required": ["charge_uuid", "status"], "properties": {
                    "charge_uuid": {"type": "string", "format": "uuid"},
                    "status": {"type": "string", "enum": ["confirmed", "pending", "issued", "canceled", "paid", "refunded", "error"]},
                    "installment_count": {"type": "integer"},
                    "description": {"type": "string"}
                }}
            }
        },
        "paths": {
            "/wallets": {
                "get": {"operationId": "listWallets", "tags": ["Wallets"], "summary": "List wallets", "responses": ok}
            },
            "/bank/wallet/charges/": {
                "get": {
                    "operationId": "listCharges", "tags": ["Charges"], "summary": "List charges",
                    "parameters": [wallet_uuid, {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"}}],
                    "responses": charge_list
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

    #[test]
    fn production_s_document_differs_from_the_sandbox_s_by_exactly_the_known_spec_drifts() {
        use app::wire::SpecChangeKind as K;
        let mut production = super::document();
        crate::simulator::production::spec_drift(&mut production);
        let text = production.to_string();
        assert_eq!(crate::catalog::parse_document("production", &text).unwrap().len(), 4);
        let changes = crate::parity::spec::diff(&super::document(), &production);
        let seen: Vec<_> = changes.iter().map(|c| (c.kind, c.operation.as_str(), c.pointer.as_str())).collect();
        let charges = "GET /bank/wallet/charges/";
        assert_eq!(
            seen,
            [
                (K::ResponseRemoved, charges, "responses/429"),
                (K::ParameterRequired, charges, "parameters/query/limit"),
                (K::TypeChanged, charges, "responses/200/body/data/[]/installment_count"),
                (K::EnumValueRemoved, charges, "responses/200/body/data/[]/status/enum/refunded"),
                (K::OperationAdded, "GET /bank/wallet/payout/", ""),
            ]
        );
    }
}
