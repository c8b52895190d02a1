//! Policy rules: which field names carry personal data, and the configured JSONPath rules.

use serde_json_path::{JsonPath, PathElement};

use super::pii::Personal;
use app::wire::PathStep;

/// How a field is masked in demo mode, decided by its name and its parent's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldRule {
    Name,
    Email,
    Phone,
    TaxId,
    Card,
    PixKey,
    /// Street, neighbourhood, complement: initials stay.
    Address,
    /// House number, postal code: every character hidden.
    AddressCode,
    Account,
}

impl FieldRule {
    pub fn kind(self) -> Personal {
        match self {
            Self::Name => Personal::Name,
            Self::Email => Personal::Email,
            Self::Phone => Personal::Phone,
            Self::TaxId => Personal::TaxId,
            Self::Card => Personal::Card,
            Self::PixKey => Personal::PixKey,
            Self::Address | Self::AddressCode => Personal::Address,
            Self::Account => Personal::Account,
        }
    }
}

/// Objects whose `name` is a person's (or a company's that pays or is paid).
const PERSON_OBJECTS: [&str; 13] = [
    "payer",
    "customer",
    "recipient",
    "beneficiary",
    "holder",
    "buyer",
    "owner",
    "sender",
    "receiver",
    "debtor",
    "creditor",
    "cardholder",
    "card",
];

/// Fields of an address object that identify a home; city, state and country stay (they teach the shape
/// without pointing at anyone).
const ADDRESS_FIELDS: [&str; 14] = [
    "street",
    "streetname",
    "addressnumber",
    "number",
    "complement",
    "neighborhood",
    "district",
    "postalcode",
    "zipcode",
    "zip",
    "cep",
    "line1",
    "line2",
    "addressline1",
];

/// Address fields that are codes rather than words: nothing of them is kept.
const ADDRESS_CODES: [&str; 6] = ["addressnumber", "number", "postalcode", "zipcode", "zip", "cep"];

/// Whether a (normalized) key names an object holding an address.
pub fn is_address_object(key: &str) -> bool {
    key == "address" || key.ends_with("address") || key == "endereco"
}

/// Whether a (normalized) key names an object holding a pix destination.
pub fn is_pix_object(key: &str) -> bool {
    key.starts_with("pix")
}

/// The rule for a field, from its normalized name and its parent's (the key of the enclosing object).
pub fn field_rule(key: &str, parent: Option<&str>) -> Option<FieldRule> {
    let rule = match key {
        "payername" | "recipientname" | "beneficiaryname" | "customername" | "holdername" | "cardname"
        | "cardholdername" | "fullname" | "firstname" | "lastname" | "nome" | "sendername" | "receivername" => {
            FieldRule::Name
        }
        "name" | "legalname" if parent.is_some_and(|p| PERSON_OBJECTS.contains(&p) || p.ends_with("destination")) => {
            FieldRule::Name
        }
        "pixkey" | "chavepix" => FieldRule::PixKey,
        "key" if parent.is_some_and(is_pix_object) => FieldRule::PixKey,
        "cardnumber" | "pan" => FieldRule::Card,
        "number" if parent == Some("card") => FieldRule::Card,
        "cpf" | "cnpj" | "taxid" | "document" | "documentnumber" => FieldRule::TaxId,
        k if k.ends_with("taxid") || k.ends_with("cpf") || k.ends_with("cnpj") => FieldRule::TaxId,
        k if k.ends_with("email") || k == "emailaddress" => FieldRule::Email,
        k if k.ends_with("phone") || k == "mobile" || k == "telephone" || k == "celular" => FieldRule::Phone,
        "account" | "accountnumber" | "iban" => FieldRule::Account,
        k if parent.is_some_and(is_address_object) && ADDRESS_CODES.contains(&k) => FieldRule::AddressCode,
        k if parent.is_some_and(is_address_object) && ADDRESS_FIELDS.contains(&k) => FieldRule::Address,
        "postalcode" | "zipcode" | "cep" => FieldRule::AddressCode,
        "street" => FieldRule::Address,
        k if is_address_object(k) && k != "ipaddress" && k != "emailaddress" => FieldRule::Address,
        _ => return None,
    };
    Some(rule)
}

/// A configured JSONPath rule: matching nodes (and everything under them) are masked in demo mode.
#[derive(Clone, Debug)]
pub struct PathRule {
    pub expression: String,
    path: JsonPath,
}

impl PathRule {
    /// Parses one rule; the error says where the expression is wrong.
    pub fn parse(expression: &str) -> Result<Self, crate::jsonpath::JsonPathError> {
        Ok(Self { expression: expression.trim().to_owned(), path: crate::jsonpath::parse(expression)? })
    }

    /// The normalized locations this rule selects in `value`.
    pub fn locations(&self, value: &serde_json::Value) -> Vec<Vec<PathStep>> {
        self.path
            .query_located(value)
            .iter()
            .map(|node| {
                node.location()
                    .iter()
                    .map(|element| match element {
                        PathElement::Name(name) => PathStep::Name((*name).to_owned()),
                        PathElement::Index(index) => PathStep::Index(*index as u64),
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_pick_the_mask_and_the_parent_decides_for_plain_names() {
        assert_eq!(field_rule("payername", None), Some(FieldRule::Name));
        assert_eq!(field_rule("name", Some("payer")), Some(FieldRule::Name));
        assert_eq!(field_rule("name", Some("customer")), Some(FieldRule::Name));
        assert_eq!(field_rule("name", Some("items")), None, "a product name stays");
        assert_eq!(field_rule("name", None), None);
        assert_eq!(field_rule("payertaxid", None), Some(FieldRule::TaxId));
        assert_eq!(field_rule("payercellphone", None), Some(FieldRule::Phone));
        assert_eq!(field_rule("street", Some("payeraddress")), Some(FieldRule::Address));
        assert_eq!(field_rule("number", Some("payeraddress")), Some(FieldRule::AddressCode));
        assert_eq!(field_rule("postalcode", None), Some(FieldRule::AddressCode));
        assert_eq!(field_rule("city", Some("payeraddress")), None, "the city stays");
        assert_eq!(field_rule("key", Some("pixdestination")), Some(FieldRule::PixKey));
        assert_eq!(field_rule("number", Some("card")), Some(FieldRule::Card));
        assert_eq!(field_rule("ipaddress", Some("deviceinfo")), None);
        assert_eq!(field_rule("status", None), None);
    }

    #[test]
    fn a_rule_lists_normalized_locations() {
        let rule = PathRule::parse("$.data[*].description").unwrap();
        let value = serde_json::json!({"data": [{"description": "a"}, {"other": 1}, {"description": "b"}]});
        assert_eq!(
            rule.locations(&value),
            vec![
                vec![PathStep::Name("data".into()), PathStep::Index(0), PathStep::Name("description".into())],
                vec![PathStep::Name("data".into()), PathStep::Index(2), PathStep::Name("description".into())],
            ]
        );
        assert!(PathRule::parse("$.data[").is_err());
    }
}
