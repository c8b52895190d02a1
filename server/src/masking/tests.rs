//! Golden tests of whole bodies, and property tests: masking never changes JSON types or structure
//! and is idempotent.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{json, Value};

use super::*;

fn settings() -> MaskingSettings {
    MaskingSettings::default()
}

fn always(settings: &MaskingSettings) -> Policy<'_> {
    Policy { personal: false, settings }
}

fn demo(settings: &MaskingSettings) -> Policy<'_> {
    Policy { personal: true, settings }
}

fn masked_json(body: &Value, policy: Policy<'_>) -> (Value, Found) {
    let bytes = serde_json::to_vec_pretty(body).unwrap();
    match mask_body(&bytes, policy) {
        Some((out, found)) => (serde_json::from_slice(&out).unwrap(), found),
        None => (body.clone(), Found::default()),
    }
}

#[test]
fn credentials_and_token_fields_are_masked_always_and_the_rest_is_untouched() {
    let s = settings();
    let body = json!({
        "wallet_uuid": "7b0c5a8e-0000-4000-8000-000000000001",
        "name": "Loja Exemplo 1",
        "email": "loja1@example.com.br",
        "credentials": {"client_id": "simclient0123", "client_secret": "FAKE-simulator-secret-abc"},
        "access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig",
        "token_type": "Bearer",
        "expires_in": 3600,
        "nested": [{"refreshToken": "r-1", "password": 1234, "api_key": null}]
    });
    let (out, found) = masked_json(&body, always(&s));
    assert_eq!(
        out,
        json!({
            "wallet_uuid": "7b0c5a8e-0000-4000-8000-000000000001",
            "name": "Loja Exemplo 1",
            "email": "loja1@example.com.br",
            "credentials": {"client_id": SECRET_MARK, "client_secret": SECRET_MARK},
            "access_token": SECRET_MARK,
            "token_type": "Bearer",
            "expires_in": 3600,
            "nested": [{"refreshToken": SECRET_MARK, "password": 0, "api_key": null}]
        })
    );
    let locations: Vec<_> = found.secrets.iter().map(|s| (s.location.as_str(), s.original.as_str())).collect();
    assert_eq!(
        locations,
        [
            ("$.credentials.client_id", "simclient0123"),
            ("$.credentials.client_secret", "FAKE-simulator-secret-abc"),
            ("$.access_token", "eyJhbGciOiJIUzI1NiJ9.e30.sig"),
            ("$.nested[0].refreshToken", "r-1"),
            ("$.nested[0].password", "1234"),
        ]
    );
    assert!(found.personal.is_empty(), "personal data is only masked in demo mode");
}

#[test]
fn unmasked_bytes_stay_exactly_as_received() {
    let s = settings();
    let body = br#"{ "z":1e400 ,"a": 12345678901234567890123,"client_secret" :"x\"y",  "a":"dup" }"#;
    let (out, _) = mask_body(body, always(&s)).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(r#"{{ "z":1e400 ,"a": 12345678901234567890123,"client_secret" :"{SECRET_MARK}",  "a":"dup" }}"#)
    );
    assert!(mask_body(br#"{"status":"confirmed"}"#, always(&s)).is_none(), "nothing to mask, nothing copied");
}

#[test]
fn golden_demo_masks_of_a_charge() {
    let s = settings();
    let body = json!({
        "charge_uuid": "00000000-0000-4000-8000-000000000001",
        "status": "confirmed",
        "value": 150.5,
        "description": "Pedido de maria.souza@example.com.br, CPF 529.982.247-25",
        "payer": {
            "name": "Maria da Silva",
            "email": "maria.souza@example.com.br",
            "tax_id": "52998224725",
            "cell_phone": "+5511912345678"
        },
        "payer_name": "Maria da Silva",
        "payer_address": {
            "street": "Rua das Flores", "address_number": "123", "complement": "Apto 42",
            "neighborhood": "Jardins", "city": "Sao Paulo", "state": "SP", "postal_code": "01310-100", "country": "BR"
        },
        "card": {"holder_name": "MARIA D SILVA", "number": "4111 1111 1111 1111", "brand": "visa"},
        "items": [{"name": "Produto 1", "quantity": 2}],
        "recipient_tax_id": "11.222.333/0001-81",
        "pix_destination": {"pix_key_type": "random_key", "pix_key": "3f0c2e1a-7b4d-4c8e-9a1f-2b3c4d5e6f70"},
        "reference": "12345678901",
        "created": "2026-11-01T09:00:00Z"
    });
    let (out, found) = masked_json(&body, demo(&s));
    assert_eq!(
        out,
        json!({
            "charge_uuid": "00000000-0000-4000-8000-000000000001",
            "status": "confirmed",
            "value": 150.5,
            "description": "Pedido de m**********@*******.com.br, CPF ***.***.***-25",
            "payer": {
                "name": "M**** d* S****",
                "email": "m**********@*******.com.br",
                "tax_id": "*********25",
                "cell_phone": "+55*******5678"
            },
            "payer_name": "M**** d* S****",
            "payer_address": {
                "street": "R** d** F*****", "address_number": "***", "complement": "A*** 4*",
                "neighborhood": "J******", "city": "Sao Paulo", "state": "SP", "postal_code": "*****-***", "country": "BR"
            },
            "card": {"holder_name": "M**** D S****", "number": "**** **** **** 1111", "brand": "visa"},
            "items": [{"name": "Produto 1", "quantity": 2}],
            "recipient_tax_id": "**.***.***/****-81",
            "pix_destination": {"pix_key_type": "random_key", "pix_key": "********-****-****-****-********6f70"},
            "reference": "12345678901",
            "created": "2026-11-01T09:00:00Z"
        })
    );
    assert_eq!(
        personal_counts(&found),
        [("email", 2), ("cpf", 2), ("cnpj", 1), ("phone", 1), ("card", 1), ("name", 3), ("address", 5), ("pix_key", 1)]
            .map(|(k, n)| (k.to_owned(), n))
    );
}

#[test]
fn configured_jsonpath_rules_mask_whole_subtrees_in_demo_mode_only() {
    let s = MaskingSettings {
        demo_rules: vec![PathRule::parse("$.data[*].metadata").unwrap(), PathRule::parse("$.merchant_ref").unwrap()],
        ..MaskingSettings::default()
    };
    let body = json!({"merchant_ref": "ACME-42", "data": [{"metadata": {"order": "A1", "n": 17, "ok": true}, "status": "paid"}]});
    let (out, found) = masked_json(&body, demo(&s));
    assert_eq!(
        out,
        json!({"merchant_ref": "****-**", "data": [{"metadata": {"order": "**", "n": 99, "ok": true}, "status": "paid"}]})
    );
    assert_eq!(personal_counts(&found), [("rule".to_owned(), 3)]);
    assert_eq!(masked_json(&body, always(&s)).0, body);
}

#[test]
fn configured_secret_fields_are_masked_always() {
    let s = MaskingSettings { secret_fields: vec!["merchantpin".into()], ..MaskingSettings::default() };
    let (out, _) = masked_json(&json!({"merchant_pin": "0042", "merchant": "x"}), always(&s));
    assert_eq!(out, json!({"merchant_pin": SECRET_MARK, "merchant": "x"}));
}

#[test]
fn text_bodies_and_json_cut_at_the_cap_are_masked_by_pattern() {
    let s = settings();
    let (text, found) = mask_text("client_secret=abc&scope=x", always(&s)).unwrap();
    assert_eq!(text, format!("client_secret={SECRET_MARK}&scope=x"));
    assert_eq!(found.secrets[0].location, "text:client_secret");
    let cut =
        r#"[{"payer_name": "Maria da Silva", "payer_email": "maria@example.com", "note": "CPF 52998224725", "val"#;
    let (out, _) = mask_body(cut.as_bytes(), demo(&s)).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"[{"payer_name": "M**** d* S****", "payer_email": "m****@*******.com", "note": "CPF *********25", "val"#
    );
    assert!(mask_body(b"\xff\xfe binary maria@example.com", demo(&s)).is_none(), "binary bodies are not rewritten");
}

#[test]
fn headers_urls_and_requests_are_masked_for_display() {
    let s = settings();
    assert_eq!(mask_header("X-Api-Key", "k-123", always(&s)).unwrap().0, SECRET_MARK);
    assert!(mask_header("X-Request-Id", "req-1", demo(&s)).is_none());
    assert_eq!(
        mask_url("https://api.test/api/v1/bank/wallet/?email=ana%40example.com&wallet_uuid=w-1", demo(&s)).unwrap(),
        "https://api.test/api/v1/bank/wallet/?email=a**%40*******.com&wallet_uuid=w-1"
    );
    assert!(mask_url("https://api.test/x?email=ana%40example.com", always(&s)).is_none());
    let request = ExecuteRequest {
        query: vec![("email".into(), "ana@example.com".into())],
        body: Some(r#"{"payer_name":"Ana Lima","payer_tax_id":"52998224725"}"#.into()),
        ..ExecuteRequest::default()
    };
    let masked = mask_request(&request, demo(&s));
    assert_eq!(masked.query, [("email".to_owned(), "a**@*******.com".to_owned())]);
    assert_eq!(masked.body.as_deref(), Some(r#"{"payer_name":"A** L***","payer_tax_id":"*********25"}"#));
}

#[test]
fn token_claims_keep_times_and_scope_and_hide_identifiers() {
    let claims = json!({"sub": "console-simulator", "client_id": "console-simulator", "scope": "api/readwrite",
        "exp": 1800000000, "token_use": "access", "iss": "http://127.0.0.1:1/pool", "groups": ["a"]});
    assert_eq!(
        mask_claims(&claims),
        json!({"sub": "*******-*****ator", "client_id": "*******-*****ator", "scope": "api/readwrite",
            "exp": 1800000000, "token_use": "access", "iss": "****://***.*.*.*:*/pool", "groups": "********"})
    );
}

// ------------------------------------------------------------------------ properties

/// Values that look like what a55 returns, plus noise: personal data of every kind, secrets,
/// look-alikes, unicode, escapes.
fn random_string(rng: &mut StdRng) -> String {
    const SAMPLES: [&str; 16] = [
        "maria.souza@example.com.br",
        "529.982.247-25",
        "52998224725",
        "11.222.333/0001-81",
        "+55 11 91234-5678",
        "(21) 3456-7890",
        "4111 1111 1111 1111",
        "12345678901",
        "00000000-0000-4000-8000-000000000001",
        "José Ávila \"o\" \\ \n",
        "2026-11-01T09:00:00Z",
        "Rua das Flores, 123",
        "",
        "☃ e-mail: ana@a55.tech.",
        "[secret masked by the console]",
        "m****@*******.com",
    ];
    match rng.gen_range(0..3) {
        0 => SAMPLES[rng.gen_range(0..SAMPLES.len())].to_owned(),
        1 => format!("{} {}", SAMPLES[rng.gen_range(0..SAMPLES.len())], SAMPLES[rng.gen_range(0..SAMPLES.len())]),
        _ => (0..rng.gen_range(0..12)).map(|_| char::from(rng.gen_range(b' '..=b'~'))).collect(),
    }
}

fn random_key(rng: &mut StdRng) -> String {
    const KEYS: [&str; 20] = [
        "payer",
        "payer_name",
        "name",
        "email",
        "tax_id",
        "cell_phone",
        "client_secret",
        "credentials",
        "access_token",
        "payer_address",
        "street",
        "postal_code",
        "city",
        "pix_key",
        "card",
        "number",
        "description",
        "status",
        "items",
        "data",
    ];
    KEYS[rng.gen_range(0..KEYS.len())].to_owned()
}

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    let pick = if depth > 4 { rng.gen_range(0..4) } else { rng.gen_range(0..6) };
    match pick {
        0 => Value::String(random_string(rng)),
        1 => json!(rng.gen_range(-1_000_000_000_000i64..100_000_000_000_000)),
        2 => json!(rng.gen_bool(0.5)),
        3 => Value::Null,
        4 => Value::Array((0..rng.gen_range(0..4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => Value::Object((0..rng.gen_range(0..5)).map(|_| (random_key(rng), random_value(rng, depth + 1))).collect()),
    }
}

/// Same structure: same keys in the same order, same JSON type at every position.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same_shape(va, vb))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_shape(a, b)),
        (Value::String(_), Value::String(_)) | (Value::Number(_), Value::Number(_)) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

#[test]
fn masking_never_changes_json_types_or_structure_and_is_idempotent() {
    let s = MaskingSettings { demo_rules: vec![PathRule::parse("$..description").unwrap()], ..settings() };
    let mut rng = StdRng::seed_from_u64(0x0a55);
    for case in 0..3_000 {
        let value = random_value(&mut rng, 0);
        let bytes = if case % 2 == 0 { serde_json::to_vec(&value) } else { serde_json::to_vec_pretty(&value) }.unwrap();
        for policy in [always(&s), demo(&s)] {
            let once = mask_body(&bytes, policy).map_or_else(|| bytes.clone(), |(b, _)| b);
            let parsed: Value = serde_json::from_slice(&once).unwrap_or_else(|e| {
                panic!("case {case}: masked output is not JSON ({e}): {}", String::from_utf8_lossy(&once))
            });
            assert!(same_shape(&value, &parsed), "case {case}: shape changed\n{value}\n{parsed}");
            let twice = mask_body(&once, policy).map_or_else(|| once.clone(), |(b, _)| b);
            assert_eq!(
                String::from_utf8_lossy(&twice),
                String::from_utf8_lossy(&once),
                "case {case}: a second pass changed the output"
            );
        }
    }
}

#[test]
fn masked_strings_keep_their_length_in_characters() {
    let s = settings();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..2_000 {
        let text = random_string(&mut rng);
        let key = random_key(&mut rng);
        let body = json!({ "payer": { key.clone(): text.clone() } });
        let (out, _) = masked_json(&body, demo(&s));
        let masked = out["payer"][&key].as_str().unwrap_or_default().to_owned();
        if masked != SECRET_MARK {
            assert_eq!(masked.chars().count(), text.chars().count(), "{key}: {text:?} → {masked:?}");
        }
    }
}

#[test]
fn debug_output_of_any_type_holding_an_original_secret_names_where_it_was_never_what_it_was() {
    let secret = "s3cr3t-original-value";
    let found = FoundSecret { location: "$.client_secret".into(), original: secret.into() };
    let kept = crate::masking::vault::Kept { location: "$.password".into(), value: secret.into() };
    let revealed = app::wire::RevealedSecret { location: "$.credentials".into(), value: secret.into() };
    for text in
        [format!("{found:?}"), format!("{kept:?}"), format!("{revealed:?}"), format!("{:?}", vec![found.clone()])]
    {
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains("$.") && text.contains("[redacted]"), "{text}");
    }
}
