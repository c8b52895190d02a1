//! Validation of the POST bodies; every problem is collected so one 400 lists them all.

use serde::Serialize;
use serde_json::{Map, Value};

use super::data::{self, Address, NewCharge, Payer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldError {
    pub(crate) field: String,
    pub(crate) reason: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

pub(crate) const CHARGE_CURRENCIES: [&str; 7] = ["BRL", "MXN", "CLP", "COP", "PEN", "ARS", "USD"];
pub(crate) const WALLET_CURRENCIES: [&str; 4] = ["BRL", "MXN", "CLP", "ARS"];
pub(crate) const TYPE_CHARGES: [&str; 6] = ["credit_card", "debit_card", "pix", "boleto", "applepay", "googlepay"];
const SUBSCRIPTION_CYCLES: [&str; 6] = ["weekly", "biweekly", "monthly", "quarterly", "semiannually", "yearly"];
const ADDRESS_FIELDS: [&str; 7] =
    ["street", "address_number", "neighborhood", "city", "state", "postal_code", "country"];
const MAX_INSTALLMENTS: u64 = 12;

/// Collects problems for one JSON object; `prefix` names nested objects (`payer_address.`).
struct Fields<'o, 'e> {
    object: &'o Map<String, Value>,
    prefix: &'static str,
    errors: &'e mut Vec<FieldError>,
}

impl<'o> Fields<'o, '_> {
    fn fail(&mut self, key: &str, reason: impl Into<String>) {
        self.errors.push(FieldError::new(format!("{}{key}", self.prefix), reason));
    }

    fn present(&self, key: &str) -> Option<&'o Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    fn required_string(&mut self, key: &str) -> Option<String> {
        match self.present(key) {
            None => self.fail(key, "is required"),
            Some(Value::String(s)) if s.trim().is_empty() => self.fail(key, "must not be empty"),
            Some(Value::String(s)) => return Some(s.clone()),
            Some(_) => self.fail(key, "must be a string"),
        }
        None
    }

    /// Numbers are accepted too, because clients often send street numbers as integers.
    fn required_string_or_number(&mut self, key: &str) -> Option<String> {
        if let Some(Value::Number(n)) = self.present(key) {
            return Some(n.to_string());
        }
        self.required_string(key)
    }

    fn optional_string(&mut self, key: &str) -> Option<String> {
        match self.present(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fail(key, "must be a string");
                None
            }
        }
    }

    fn optional_bool(&mut self, key: &str) -> Option<bool> {
        match self.present(key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(key, "must be a boolean");
                None
            }
        }
    }

    fn required_enum(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let value = self.required_string(key)?;
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            self.fail(key, format!("must be one of {}", allowed.join(", ")));
            None
        }
    }

    fn email(&mut self, key: &str) -> Option<String> {
        let value = self.required_string(key)?;
        let plausible = value.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if plausible {
            Some(value)
        } else {
            self.fail(key, "must be a valid email address");
            None
        }
    }

    fn url(&mut self, key: &str) -> Option<String> {
        let value = self.optional_string(key)?;
        match url::Url::parse(&value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(value),
            _ => {
                self.fail(key, "must be an http or https URL");
                None
            }
        }
    }
}

fn object_or_error(body: &Value) -> Result<&Map<String, Value>, Vec<FieldError>> {
    body.as_object().ok_or_else(|| vec![FieldError::new("body", "must be a JSON object")])
}

/// Amount in cents of a positive JSON number with at most two decimals.
fn cents(value: Option<&Value>) -> Result<i64, &'static str> {
    let Some(value) = value else {
        return Err("is required");
    };
    let Some(amount) = value.as_f64() else {
        return Err("must be a number");
    };
    if !(amount > 0.0 && amount < 1e12) {
        return Err("must be a positive amount");
    }
    let scaled = amount * 100.0;
    if (scaled.round() - scaled).abs() > 1e-6 {
        return Err("must have at most 2 decimal places");
    }
    Ok(scaled.round() as i64)
}

pub(crate) fn charge(body: &Value) -> Result<NewCharge, Vec<FieldError>> {
    let object = object_or_error(body)?;
    let mut errors = Vec::new();
    let mut f = Fields { object, prefix: "", errors: &mut errors };
    let wallet_uuid = f.required_string("wallet_uuid");
    let merchant_id = f.required_string("merchant_id");
    let payer_name = f.required_string("payer_name");
    let payer_email = f.email("payer_email");
    let payer_tax_id = f.required_string("payer_tax_id");
    let payer_cell_phone = f.required_string("payer_cell_phone");
    let installment_cents =
        cents(f.present("installment_value")).map_err(|reason| f.fail("installment_value", reason)).ok();
    let installment_count = match f.present("installment_count") {
        None => {
            f.fail("installment_count", "is required");
            None
        }
        Some(v) => match v.as_u64().filter(|n| (1..=MAX_INSTALLMENTS).contains(n)) {
            Some(n) => u32::try_from(n).ok(),
            None => {
                f.fail("installment_count", format!("must be an integer between 1 and {MAX_INSTALLMENTS}"));
                None
            }
        },
    };
    let currency = f.required_enum("currency", &CHARGE_CURRENCIES);
    let due_date = f.required_string("due_date").and_then(|text| {
        let parsed = data::parse_date(&text);
        if parsed.is_none() {
            f.fail("due_date", "must be a date in YYYY-MM-DD format");
        }
        parsed
    });
    let description = f.required_string("description");
    let type_charge = f.required_enum("type_charge", &TYPE_CHARGES);
    let card_number = f.optional_string("card_number").and_then(|raw| {
        let digits: String = raw.chars().filter(|c| *c != ' ').collect();
        let valid = (12..=19).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            f.fail("card_number", "must be 12 to 19 digits");
        }
        valid.then_some(digits)
    });
    let threeds = f.optional_bool("threeds_authentication").unwrap_or(false);
    f.optional_bool("capture");
    let items = match f.present("items") {
        None => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_object) => Some(items.clone()),
        Some(_) => {
            f.fail("items", "must be an array of objects");
            None
        }
    };
    let redirect_url = f.url("redirect_url");
    let webhook_url = f.url("webhook_url");
    if let Some(subscription) = f.present("subscription") {
        match subscription.get("cycle").and_then(Value::as_str) {
            Some(cycle) if SUBSCRIPTION_CYCLES.contains(&cycle) => {}
            _ => f.fail("subscription.cycle", format!("must be one of {}", SUBSCRIPTION_CYCLES.join(", "))),
        }
    }
    let payer_address = address(f.present("payer_address"), &mut errors);

    let (
        Some(wallet_uuid),
        Some(merchant_id),
        Some(name),
        Some(email),
        Some(tax_id),
        Some(cell_phone),
        Some(installment_cents),
        Some(installment_count),
        Some(currency),
        Some(due_date),
        Some(description),
        Some(type_charge),
        Some(payer_address),
        true,
    ) = (
        wallet_uuid,
        merchant_id,
        payer_name,
        payer_email,
        payer_tax_id,
        payer_cell_phone,
        installment_cents,
        installment_count,
        currency,
        due_date,
        description,
        type_charge,
        payer_address,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    Ok(NewCharge {
        wallet_uuid,
        merchant_id,
        payer: Payer { name, email, tax_id, cell_phone },
        payer_address,
        installment_cents,
        installment_count,
        currency,
        due_date,
        description,
        type_charge,
        card_number,
        threeds,
        items,
        redirect_url,
        webhook_url,
    })
}

/// A missing address reports each of its required fields, so the client sees the full list at once.
fn address(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Address> {
    let empty = Map::new();
    let object = match value {
        None => &empty,
        Some(Value::Object(object)) => object,
        Some(_) => {
            errors.push(FieldError::new("payer_address", "must be an object"));
            return None;
        }
    };
    let mut f = Fields { object, prefix: "payer_address.", errors };
    let [street, address_number, neighborhood, city, state, postal_code, country] =
        ADDRESS_FIELDS.map(|key| f.required_string_or_number(key));
    let complement = f.optional_string("complement");
    Some(Address {
        street: street?,
        address_number: address_number?,
        complement,
        neighborhood: neighborhood?,
        city: city?,
        state: state?,
        postal_code: postal_code?,
        country: country?,
    })
}

/// A validated create-wallet request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewWallet {
    pub(crate) entity_uuid: String,
    pub(crate) merchant_uuid: Option<String>,
    pub(crate) customer_id: String,
    pub(crate) currency: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) create_credentials: bool,
}

pub(crate) fn wallet(body: &Value) -> Result<NewWallet, Vec<FieldError>> {
    let object = object_or_error(body)?;
    let mut errors = Vec::new();
    let mut f = Fields { object, prefix: "", errors: &mut errors };
    let entity_uuid = f.required_string("entity_uuid");
    let customer_id = f.required_string("customer_id");
    let currency = f.required_enum("currency", &WALLET_CURRENCIES);
    let name = f.required_string("name");
    let email = f.email("email");
    let create_credentials = f.optional_bool("create_credentials").unwrap_or(false);
    let merchant_uuid = f.optional_string("merchant_uuid");
    match (entity_uuid, customer_id, currency, name, email, errors.is_empty()) {
        (Some(entity_uuid), Some(customer_id), Some(currency), Some(name), Some(email), true) => {
            Ok(NewWallet { entity_uuid, merchant_uuid, customer_id, currency, name, email, create_credentials })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::testkit::valid_charge_body;
    use super::*;
    use serde_json::json;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_complete_charge_body_is_accepted() {
        let charge = charge(&valid_charge_body()).unwrap();
        assert_eq!(charge.installment_cents, 10_050);
        assert_eq!(charge.payer_address.address_number, "12");
        assert_eq!(charge.due_date, (2026, 11, 20));
    }

    #[test]
    fn an_empty_charge_body_reports_every_required_field_including_the_address() {
        let errors = charge(&json!({})).unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "wallet_uuid",
                "merchant_id",
                "payer_name",
                "payer_email",
                "payer_tax_id",
                "payer_cell_phone",
                "installment_value",
                "installment_count",
                "currency",
                "due_date",
                "description",
                "type_charge",
                "payer_address.street",
                "payer_address.address_number",
                "payer_address.neighborhood",
                "payer_address.city",
                "payer_address.state",
                "payer_address.postal_code",
                "payer_address.country",
            ]
        );
        assert!(errors.iter().all(|e| e.reason == "is required"));
    }

    #[test]
    fn wrong_types_enums_and_formats_are_each_reported() {
        let mut body = valid_charge_body();
        body["currency"] = json!("EUR");
        body["type_charge"] = json!("cheque");
        body["due_date"] = json!("20/11/2026");
        body["installment_value"] = json!(10.001);
        body["installment_count"] = json!(0);
        body["payer_email"] = json!("nobody");
        body["payer_name"] = json!(42);
        body["payer_address"]["city"] = json!("");
        let errors = charge(&body).unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "payer_name",
                "payer_email",
                "installment_value",
                "installment_count",
                "currency",
                "due_date",
                "type_charge",
                "payer_address.city",
            ]
        );
        assert!(errors[4].reason.contains("BRL"));
    }

    #[test]
    fn a_non_object_body_is_one_error() {
        assert_eq!(fields(&charge(&json!([1, 2])).unwrap_err()), ["body"]);
        assert_eq!(fields(&wallet(&json!("x")).unwrap_err()), ["body"]);
    }

    #[test]
    fn a_wallet_body_needs_its_fields_and_a_supported_currency() {
        let errors = wallet(&json!({"currency": "USD", "create_credentials": "yes"})).unwrap_err();
        assert_eq!(fields(&errors), ["entity_uuid", "customer_id", "currency", "name", "email", "create_credentials"]);
        let ok = wallet(&json!({
            "entity_uuid": "e", "customer_id": "c", "currency": "MXN", "name": "n",
            "email": "n@example.com", "create_credentials": true
        }))
        .unwrap();
        assert!(ok.create_credentials);
    }
}
