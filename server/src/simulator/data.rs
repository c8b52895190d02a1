//! Deterministic fake a55 data: wallets, charges, payouts and subscriptions derived from indices.
//!
//! Every identifier encodes the wallet and item index it was made from, so lookups need no stored
//! state and the same request always yields the same bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use sha2::Digest as _;

pub(crate) const ENTITY_UUID: &str = "6a1d0c3e-0f2b-4c5d-8e7f-a0b1c2d3e4f5";
pub(crate) const MERCHANT_UUID: &str = "7b2e1d4f-1a3c-4d6e-9f80-b1c2d3e4f5a6";
pub(crate) const WALLET_COUNT: usize = 5;
pub(crate) const CHARGES_PER_WALLET: usize = 237;
pub(crate) const PAYOUTS_PER_WALLET: usize = 53;
pub(crate) const SUBSCRIPTIONS_PER_WALLET: usize = 3;

/// Same order as `bench/bigjson.py`, so index `i` has the same status in both.
const SEED_CHARGE_STATUSES: [&str; 7] = ["confirmed", "pending", "issued", "canceled", "paid", "refunded", "error"];
/// Every status a55 documents for charges; the list filter accepts any of them.
pub(crate) const CHARGE_STATUSES: [&str; 13] = [
    "confirmed",
    "pending",
    "issued",
    "canceled",
    "paid",
    "error",
    "refunded",
    "refund_error",
    "chargeback_refunded",
    "chargeback_requested",
    "chargeback_reversed",
    "pre_chargeback_resolution",
    "declined",
];
const SEED_CHARGE_TYPES: [&str; 4] = ["credit_card", "pix", "boleto", "debit_card"];
pub(crate) const PAYOUT_STATUSES: [&str; 7] =
    ["pending", "issued", "realized", "returned", "canceled", "error", "expired"];
const PAYOUT_TYPES: [&str; 3] = ["pix", "ted", "bank_transfer"];
const SUBSCRIPTION_CYCLES: [&str; 3] = ["monthly", "weekly", "yearly"];

// ---------------------------------------------------------------- money and dates

/// Amounts are kept in cents and only become JSON numbers at the edge, so they never drift.
pub(crate) fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

fn round_cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Units of `currency` per US dollar; fixed fake rates so conversions are deterministic.
fn units_per_usd(currency: &str) -> f64 {
    match currency {
        "BRL" => 5.80,
        "MXN" => 17.20,
        "CLP" => 940.0,
        "COP" => 3_900.0,
        "PEN" => 3.75,
        "ARS" => 1_000.0,
        _ => 1.0,
    }
}

const EUR_PER_USD: f64 = 0.92;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Conversions {
    pub(crate) local_currency: f64,
    pub(crate) usd_currency: f64,
    pub(crate) eur_currency: f64,
}

pub(crate) fn conversions(cents: i64, currency: &str) -> Conversions {
    let local = money(cents);
    let usd = local / units_per_usd(currency);
    Conversions { local_currency: local, usd_currency: round_cents(usd), eur_currency: round_cents(usd * EUR_PER_USD) }
}

/// `2026-11-01T00:00:00Z` plus `minutes`; callers keep `minutes` inside November.
fn november_timestamp(minutes: usize) -> String {
    let day = 1 + minutes / 1_440;
    let hour = (minutes % 1_440) / 60;
    let minute = minutes % 60;
    format!("2026-11-{day:02}T{hour:02}:{minute:02}:00Z")
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a calendar date written exactly as `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<(u32, u32, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    valid.then_some((year, month, day))
}

/// Same day `months` later, clamped to the end of shorter months (Jan 31 + 1 month = Feb 28).
fn add_months((year, month, day): (u32, u32, u32), months: u32) -> String {
    let index = month - 1 + months;
    let (year, month) = (year + index / 12, index % 12 + 1);
    let day = day.min(days_in_month(year, month));
    format!("{year:04}-{month:02}-{day:02}")
}

// ---------------------------------------------------------------- identifiers

/// Wallet 0 is the wallet used by `bench/bigjson.py`.
pub(crate) fn wallet_uuid(wallet: usize) -> String {
    format!("2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f{:02x}", 0x60 + wallet)
}

pub(crate) fn seeded_wallet_index(uuid: &str) -> Option<usize> {
    (0..WALLET_COUNT).find(|&w| wallet_uuid(w).eq_ignore_ascii_case(uuid))
}

/// `{i:08x}-{middle}-{wallet:04x}{i:08x}`: for wallet 0 this is bigjson.py's charge uuid for index `i`.
fn indexed_uuid(middle: &str, wallet: usize, index: usize) -> String {
    format!("{index:08x}-{middle}-{wallet:04x}{index:08x}")
}

fn parse_indexed_uuid(uuid: &str, middle: &str, per_wallet: usize) -> Option<(usize, usize)> {
    let uuid = uuid.to_ascii_lowercase();
    let last = uuid.rsplit('-').next()?;
    if last.len() != 12 {
        return None;
    }
    let wallet = usize::from_str_radix(last.get(..4)?, 16).ok()?;
    let index = usize::from_str_radix(last.get(4..)?, 16).ok()?;
    let known = wallet < WALLET_COUNT && index < per_wallet;
    (known && indexed_uuid(middle, wallet, index) == uuid).then_some((wallet, index))
}

const CHARGE_UUID_MIDDLE: &str = "5e4f-4a3b-8c2d";
const PAYOUT_UUID_MIDDLE: &str = "9a0b-4c1d-8e2f";
const SUBSCRIPTION_UUID_MIDDLE: &str = "7c3d-4e2f-9a1b";

pub(crate) fn charge_uuid(wallet: usize, index: usize) -> String {
    indexed_uuid(CHARGE_UUID_MIDDLE, wallet, index)
}

pub(crate) fn parse_charge_uuid(uuid: &str) -> Option<(usize, usize)> {
    parse_indexed_uuid(uuid, CHARGE_UUID_MIDDLE, CHARGES_PER_WALLET)
}

pub(crate) fn payout_uuid(wallet: usize, index: usize) -> String {
    indexed_uuid(PAYOUT_UUID_MIDDLE, wallet, index)
}

pub(crate) fn parse_payout_uuid(uuid: &str) -> Option<(usize, usize)> {
    parse_indexed_uuid(uuid, PAYOUT_UUID_MIDDLE, PAYOUTS_PER_WALLET)
}

pub(crate) fn subscription_uuid(wallet: usize, index: usize) -> String {
    indexed_uuid(SUBSCRIPTION_UUID_MIDDLE, wallet, index)
}

pub(crate) fn parse_subscription_uuid(uuid: &str) -> Option<(usize, usize)> {
    parse_indexed_uuid(uuid, SUBSCRIPTION_UUID_MIDDLE, SUBSCRIPTIONS_PER_WALLET)
}

/// A v4-shaped uuid taken from a digest, for resources whose identity is their request body.
pub(crate) fn uuid_from_digest(digest: &[u8; 32]) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

// ---------------------------------------------------------------- wallets

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Balance {
    pub(crate) available: f64,
    pub(crate) pending: f64,
    pub(crate) currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Wallet {
    pub(crate) wallet_uuid: String,
    pub(crate) entity_uuid: String,
    pub(crate) merchant_uuid: String,
    pub(crate) customer_id: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) currency: String,
    pub(crate) status: String,
    pub(crate) balance: Balance,
    pub(crate) created: String,
}

pub(crate) fn seeded_wallet(w: usize) -> Wallet {
    let n = w + 1;
    let currency = if w == 4 { "MXN" } else { "BRL" };
    let available = (n as i64) * 1_234_567 + (w as i64 * 4_321) % 997;
    Wallet {
        wallet_uuid: wallet_uuid(w),
        entity_uuid: ENTITY_UUID.to_owned(),
        merchant_uuid: MERCHANT_UUID.to_owned(),
        customer_id: format!("cust_{n:04}"),
        name: format!("Loja Exemplo {n}"),
        email: format!("loja{n}@example.com.br"),
        currency: currency.to_owned(),
        status: if w == 3 { "inactive" } else { "active" }.to_owned(),
        balance: Balance { available: money(available), pending: money(available / 7), currency: currency.to_owned() },
        created: format!("2026-11-{n:02}T09:00:00Z"),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Credentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

/// Obviously fake OAuth keys for a created wallet, derived from the request so replays match.
pub(crate) fn fake_credentials(digest: &[u8; 32]) -> Credentials {
    Credentials {
        client_id: format!("simclient{}", hex::encode(&digest[16..24])),
        client_secret: format!("FAKE-simulator-secret-{}", hex::encode(&digest[..16])),
    }
}

// ---------------------------------------------------------------- charges

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Payer {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) tax_id: String,
    pub(crate) cell_phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Address {
    pub(crate) street: String,
    pub(crate) address_number: String,
    pub(crate) complement: Option<String>,
    pub(crate) neighborhood: String,
    pub(crate) city: String,
    pub(crate) state: String,
    pub(crate) postal_code: String,
    pub(crate) country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ChargeMessage {
    pub(crate) code: String,
    pub(crate) source: String,
    pub(crate) description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Installment {
    pub(crate) installment_number: u32,
    pub(crate) value: f64,
    pub(crate) due_date: String,
    pub(crate) status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PixPayload {
    pub(crate) qr_code: String,
    pub(crate) payload: String,
    pub(crate) expiration_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Charge {
    pub(crate) charge_uuid: String,
    pub(crate) wallet_uuid: String,
    pub(crate) merchant_id: String,
    pub(crate) status: String,
    pub(crate) type_charge: String,
    pub(crate) value: f64,
    pub(crate) installment_value: f64,
    pub(crate) installment_count: u32,
    pub(crate) currency: String,
    #[serde(flatten)]
    pub(crate) conversions: Conversions,
    pub(crate) description: String,
    pub(crate) due_date: String,
    pub(crate) payer: Payer,
    pub(crate) payer_address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) card: Option<Card>,
    pub(crate) items: Vec<Value>,
    pub(crate) installments: Vec<Installment>,
    pub(crate) message: Option<Vec<ChargeMessage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pix_payload: Option<PixPayload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) boleto_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) barcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url_3ds: Option<String>,
    pub(crate) charge_payment_url: String,
    pub(crate) redirect_url: Option<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) created: String,
    pub(crate) updated: String,
}

fn declined_message() -> ChargeMessage {
    ChargeMessage {
        code: "CARD_DECLINED".to_owned(),
        source: "acquirer".to_owned(),
        description: "Transacao recusada pelo emissor (simulador)".to_owned(),
    }
}

fn processing_error_message() -> ChargeMessage {
    ChargeMessage {
        code: "PROCESSING_ERROR".to_owned(),
        source: "acquirer".to_owned(),
        description: "Erro de processamento no adquirente (simulador)".to_owned(),
    }
}

fn pix_payload(charge_uuid: &str, cents: i64, due_date: &str) -> PixPayload {
    let payload = format!(
        "00020126580014br.gov.bcb.pix0136{charge_uuid}5204000053039865406{:.2}5802BR5913SIMULADOR A556009SAO PAULO6304ABCD",
        money(cents)
    );
    PixPayload {
        qr_code: format!("data:image/png;base64,{}", STANDARD.encode(format!("SIMULATOR-QR-{charge_uuid}"))),
        payload,
        expiration_date: format!("{due_date}T23:59:59Z"),
    }
}

fn boleto_fields(charge_uuid: &str, cents: i64) -> (String, String) {
    let digits: String =
        charge_uuid.bytes().filter(u8::is_ascii_hexdigit).map(|b| char::from(b'0' + b % 10)).take(29).collect();
    (format!("https://boleto.simulator.invalid/{charge_uuid}.pdf"), format!("23790{digits}{cents:010}"))
}

// Personal data of every kind demo mode masks, deterministic and valid (check digits, Luhn), so the
// simulator can demonstrate masking end to end. Every value is fictitious.
const FIRST_NAMES: [&str; 12] = [
    "Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Heitor", "Isabela", "João", "Larissa", "Marcos",
];
const LAST_NAMES: [&str; 10] =
    ["Silva", "Souza", "Oliveira", "Santos", "Pereira", "Lima", "Carvalho", "Ribeiro", "Almeida", "Costa"];
const STREETS: [&str; 6] =
    ["Rua das Flores", "Avenida Paulista", "Rua Augusta", "Alameda Santos", "Rua Oscar Freire", "Avenida Brasil"];
const NEIGHBORHOODS: [&str; 4] = ["Jardins", "Bela Vista", "Pinheiros", "Moema"];
/// Test card numbers (Luhn-valid, from the card networks' and a55's sandbox lists).
const TEST_CARDS: [(&str, &str); 3] =
    [("visa", "4111 1111 1111 1111"), ("mastercard", "5555 5555 5555 4444"), ("visa", "4000 0000 0000 0002")];

/// Appends the two check digits of a CPF (or CNPJ, with `weights` of the second digit) to `base`.
fn with_check_digits(base: &[u32], first_weights: &[u32], second_weights: &[u32], cnpj: bool) -> Vec<u32> {
    let digit = |d: &[u32], weights: &[u32]| {
        let sum: u32 = d.iter().zip(weights).map(|(x, w)| x * w).sum();
        if cnpj {
            let rest = sum % 11;
            if rest < 2 {
                0
            } else {
                11 - rest
            }
        } else {
            (sum * 10 % 11) % 10
        }
    };
    let mut d = base.to_vec();
    d.push(digit(&d, first_weights));
    d.push(digit(&d, second_weights));
    d
}

fn digits_of(mut n: u64, len: usize) -> Vec<u32> {
    let mut d = vec![0; len];
    for slot in d.iter_mut().rev() {
        *slot = (n % 10) as u32;
        n /= 10;
    }
    d
}

/// A valid, formatted CPF derived from `k`: `123.456.789-09`.
pub(crate) fn seeded_cpf(k: usize) -> String {
    let base = digits_of(100_000_000 + (k as u64 * 7_919) % 800_000_000, 9);
    let d = with_check_digits(&base, &[10, 9, 8, 7, 6, 5, 4, 3, 2], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2], false);
    let t: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
    format!("{}.{}.{}-{}", &t[..3], &t[3..6], &t[6..9], &t[9..])
}

/// A valid, formatted CNPJ derived from `k`: `11.222.333/0001-81`.
pub(crate) fn seeded_cnpj(k: usize) -> String {
    let mut base = digits_of(10_000_000 + (k as u64 * 104_729) % 89_000_000, 8);
    base.extend([0, 0, 0, 1]);
    let d =
        with_check_digits(&base, &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], true);
    let t: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
    format!("{}.{}.{}/{}-{}", &t[..2], &t[2..5], &t[5..8], &t[8..12], &t[12..])
}

/// A person's name derived from `k`.
pub(crate) fn seeded_person(k: usize) -> String {
    format!("{} {}", FIRST_NAMES[k % FIRST_NAMES.len()], LAST_NAMES[(k / FIRST_NAMES.len()) % LAST_NAMES.len()])
}

/// A Brazilian mobile number derived from `k`: `+55 11 9XXXX-XXXX`.
pub(crate) fn seeded_phone(k: usize) -> String {
    let n = 10_000_000 + (k * 7_351) % 90_000_000;
    format!("+55 11 9{:04}-{:04}", n / 10_000, n % 10_000)
}

fn seeded_payer(k: usize) -> Payer {
    let name = seeded_person(k);
    let first = name.split(' ').next().unwrap_or("cliente").to_lowercase().replace('ã', "a");
    Payer {
        email: format!("{first}.{k}@example.com.br"),
        name,
        tax_id: seeded_cpf(k).replace(['.', '-'], ""),
        cell_phone: seeded_phone(k).replace([' ', '-'], ""),
    }
}

fn seeded_address(k: usize) -> Address {
    Address {
        street: STREETS[k % STREETS.len()].to_owned(),
        address_number: format!("{}", 10 + k % 990),
        complement: k.is_multiple_of(3).then(|| format!("Apto {}", 11 + k % 180)),
        neighborhood: NEIGHBORHOODS[k % NEIGHBORHOODS.len()].to_owned(),
        city: "Sao Paulo".to_owned(),
        state: "SP".to_owned(),
        postal_code: format!("01{:03}-{:03}", k % 1_000, (k * 37) % 1_000),
        country: "BR".to_owned(),
    }
}

/// The card a seeded card charge was paid with. The simulator returns the whole test number so
/// demo-mode masking (Luhn) can be shown; a real API returns at most the last digits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Card {
    pub(crate) holder_name: String,
    pub(crate) brand: String,
    pub(crate) number: String,
    pub(crate) expiry_month: String,
    pub(crate) expiry_year: String,
}

fn seeded_card(k: usize, holder: &str) -> Card {
    let (brand, number) = TEST_CARDS[k % TEST_CARDS.len()];
    Card {
        holder_name: holder.to_uppercase(),
        brand: brand.to_owned(),
        number: number.to_owned(),
        expiry_month: format!("{:02}", 1 + k % 12),
        expiry_year: "2030".to_owned(),
    }
}

/// Minutes after Nov 1st at which seeded charge `i` was created; increasing in `i`, so index order is date order.
fn seeded_charge_minutes(w: usize, i: usize) -> usize {
    i * 181 + w * 7
}

pub(crate) fn seeded_charge_status(i: usize) -> &'static str {
    SEED_CHARGE_STATUSES[i % SEED_CHARGE_STATUSES.len()]
}

pub(crate) fn seeded_charge_date(w: usize, i: usize) -> String {
    november_timestamp(seeded_charge_minutes(w, i))[..10].to_owned()
}

fn payment_url(charge_uuid: &str) -> String {
    format!("https://pay.simulator.invalid/checkout/{charge_uuid}")
}

pub(crate) fn seeded_charge(w: usize, i: usize) -> Charge {
    let wallet = seeded_wallet(w);
    let k = w * 1_000 + i;
    let uuid = charge_uuid(w, i);
    let status = seeded_charge_status(i);
    let type_charge = SEED_CHARGE_TYPES[i % SEED_CHARGE_TYPES.len()];
    let card = matches!(type_charge, "credit_card" | "debit_card");
    let count = if card { 1 + (i % 12) as u32 } else { 1 };
    let installment_cents = 1_000 + ((i * 731 + w * 97) % 99_000) as i64;
    let cents = installment_cents * i64::from(count);
    let created = november_timestamp(seeded_charge_minutes(w, i));
    let due = parse_date(&created[..10]).unwrap_or((2026, 11, 1));
    let due_date = add_months(due, 0);
    let message = match status {
        "error" => Some(vec![declined_message()]),
        _ => None,
    };
    let (boleto_url, barcode) = match type_charge {
        "boleto" => {
            let (url, code) = boleto_fields(&uuid, cents);
            (Some(url), Some(code))
        }
        _ => (None, None),
    };
    Charge {
        pix_payload: (type_charge == "pix").then(|| pix_payload(&uuid, cents, &due_date)),
        boleto_url,
        barcode,
        url_3ds: (status == "pending" && card).then(|| format!("https://3ds.simulator.invalid/challenge/{uuid}")),
        charge_payment_url: payment_url(&uuid),
        wallet_uuid: wallet.wallet_uuid,
        merchant_id: MERCHANT_UUID.to_owned(),
        status: status.to_owned(),
        type_charge: type_charge.to_owned(),
        value: money(cents),
        installment_value: money(installment_cents),
        installment_count: count,
        conversions: conversions(cents, &wallet.currency),
        currency: wallet.currency,
        description: format!("Pedido {}", i + 1),
        installments: installments(due, count, installment_cents, status),
        due_date,
        card: card.then(|| seeded_card(k, &seeded_person(k))),
        payer: seeded_payer(k),
        payer_address: seeded_address(k),
        items: vec![serde_json::json!({
            "name": format!("Produto {}", 1 + i % 5),
            "quantity": 1,
            "unit_amount": money(cents),
            "total_amount": money(cents),
        })],
        message,
        redirect_url: None,
        webhook_url: None,
        charge_uuid: uuid,
        updated: created.clone(),
        created,
    }
}

fn installments(first_due: (u32, u32, u32), count: u32, cents: i64, status: &str) -> Vec<Installment> {
    (0..count)
        .map(|n| Installment {
            installment_number: n + 1,
            value: money(cents),
            due_date: add_months(first_due, n),
            status: status.to_owned(),
        })
        .collect()
}

/// A validated create-charge request (see `validate::charge`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewCharge {
    pub(crate) wallet_uuid: String,
    pub(crate) merchant_id: String,
    pub(crate) payer: Payer,
    pub(crate) payer_address: Address,
    pub(crate) installment_cents: i64,
    pub(crate) installment_count: u32,
    pub(crate) currency: String,
    pub(crate) due_date: (u32, u32, u32),
    pub(crate) description: String,
    pub(crate) type_charge: String,
    pub(crate) card_number: Option<String>,
    pub(crate) threeds: bool,
    pub(crate) items: Option<Vec<Value>>,
    pub(crate) redirect_url: Option<String>,
    pub(crate) webhook_url: Option<String>,
}

/// Sandbox card behaviour from a55's quickstart: 4111… confirms, 4000…0002 is declined, 4000…0069 errors.
fn card_outcome(card: Option<&str>, threeds: bool) -> (&'static str, Option<Vec<ChargeMessage>>) {
    match card {
        Some("4000000000000002") => ("error", Some(vec![declined_message()])),
        Some("4000000000000069") => ("error", Some(vec![processing_error_message()])),
        _ if threeds => ("pending", None),
        _ => ("confirmed", None),
    }
}

pub(crate) fn created_charge(new: NewCharge, digest: &[u8; 32]) -> Charge {
    let uuid = uuid_from_digest(digest);
    let cents = new.installment_cents * i64::from(new.installment_count);
    let due_date = add_months(new.due_date, 0);
    let (status, message) = match new.type_charge.as_str() {
        "pix" | "boleto" => ("issued", None),
        _ => card_outcome(new.card_number.as_deref(), new.threeds),
    };
    let (boleto_url, barcode) = match new.type_charge.as_str() {
        "boleto" => {
            let (url, code) = boleto_fields(&uuid, cents);
            (Some(url), Some(code))
        }
        _ => (None, None),
    };
    // Derived from the body rather than the clock so that a replayed request is byte-identical.
    let created = november_timestamp(usize::from(digest[20]) * 160 + usize::from(digest[21] % 60));
    let items = new.items.unwrap_or_else(|| {
        vec![serde_json::json!({
            "name": new.description,
            "quantity": 1,
            "unit_amount": money(cents),
            "total_amount": money(cents),
        })]
    });
    Charge {
        pix_payload: (new.type_charge == "pix").then(|| pix_payload(&uuid, cents, &due_date)),
        boleto_url,
        barcode,
        url_3ds: (status == "pending").then(|| format!("https://3ds.simulator.invalid/challenge/{uuid}")),
        charge_payment_url: payment_url(&uuid),
        installments: installments(new.due_date, new.installment_count, new.installment_cents, status),
        wallet_uuid: new.wallet_uuid,
        merchant_id: new.merchant_id,
        status: status.to_owned(),
        value: money(cents),
        installment_value: money(new.installment_cents),
        installment_count: new.installment_count,
        conversions: conversions(cents, &new.currency),
        currency: new.currency,
        description: new.description,
        due_date,
        payer: new.payer,
        payer_address: new.payer_address,
        card: None,
        items,
        message,
        type_charge: new.type_charge,
        redirect_url: new.redirect_url,
        webhook_url: new.webhook_url,
        charge_uuid: uuid,
        updated: created.clone(),
        created,
    }
}

/// The shape the public endpoint returns (the browser SDK reads `data[0]` of an array of these).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PublicChargeView {
    pub(crate) charge_uuid: String,
    pub(crate) status: String,
    pub(crate) redirect_url: Option<String>,
    pub(crate) message: Option<Vec<ChargeMessage>>,
    pub(crate) type_charge: String,
    pub(crate) value: f64,
    pub(crate) currency: String,
    pub(crate) installment_count: u32,
    pub(crate) customer: PublicCustomer,
    pub(crate) threeds_auth: bool,
    pub(crate) threeds_metadata: Option<Value>,
    pub(crate) website: String,
    pub(crate) recurrence: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PublicCustomer {
    pub(crate) name: String,
    pub(crate) email: String,
}

impl From<&Charge> for PublicChargeView {
    fn from(charge: &Charge) -> Self {
        Self {
            charge_uuid: charge.charge_uuid.clone(),
            status: charge.status.clone(),
            redirect_url: charge.redirect_url.clone(),
            message: charge.message.clone(),
            type_charge: charge.type_charge.clone(),
            value: charge.value,
            currency: charge.currency.clone(),
            installment_count: charge.installment_count,
            customer: PublicCustomer { name: charge.payer.name.clone(), email: charge.payer.email.clone() },
            threeds_auth: charge.url_3ds.is_some(),
            threeds_metadata: None,
            website: "https://loja.example.com.br".to_owned(),
            recurrence: None,
        }
    }
}

// ---------------------------------------------------------------- payouts

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Payout {
    pub(crate) payout_uuid: String,
    pub(crate) wallet_uuid: String,
    pub(crate) external_id: String,
    pub(crate) status: String,
    pub(crate) type_payout: String,
    pub(crate) amount: f64,
    pub(crate) fee: f64,
    pub(crate) currency: String,
    pub(crate) description: String,
    pub(crate) beneficiary_name: String,
    pub(crate) transaction_reference: String,
    pub(crate) submitted_date: String,
    pub(crate) confirmed_date: Option<String>,
    pub(crate) payment_code: Option<String>,
    pub(crate) authorization_code: Option<String>,
    pub(crate) destination: Value,
    pub(crate) message: Vec<ChargeMessage>,
    pub(crate) created: String,
    pub(crate) updated: String,
}

fn seeded_payout_minutes(w: usize, i: usize) -> usize {
    i * 811 + w * 7
}

pub(crate) fn seeded_payout_status(i: usize) -> &'static str {
    PAYOUT_STATUSES[i % PAYOUT_STATUSES.len()]
}

pub(crate) fn seeded_payout_date(w: usize, i: usize) -> String {
    november_timestamp(seeded_payout_minutes(w, i))[..10].to_owned()
}

pub(crate) fn seeded_payout(w: usize, i: usize) -> Payout {
    let wallet = seeded_wallet(w);
    let k = w * 1_000 + i;
    let status = seeded_payout_status(i);
    let type_payout = PAYOUT_TYPES[i % PAYOUT_TYPES.len()];
    let cents = 5_000 + ((i * 4_513 + w * 311) % 495_000) as i64;
    let created = november_timestamp(seeded_payout_minutes(w, i));
    let confirmed = november_timestamp(seeded_payout_minutes(w, i) + 45);
    let settled = status == "realized";
    let beneficiary = seeded_person(k + 7);
    let destination = match type_payout {
        "pix" => {
            // Every pix key type a55 accepts, in turn.
            let (key_type, key) = match (i / PAYOUT_TYPES.len()) % 5 {
                0 => ("email", format!("fornecedor{k}@example.com.br")),
                1 => ("phone", seeded_phone(k + 7).replace([' ', '-'], "")),
                2 => ("cpf", seeded_cpf(k + 7).replace(['.', '-'], "")),
                3 => ("cnpj", seeded_cnpj(k).replace(['.', '/', '-'], "")),
                _ => ("random_key", uuid_from_digest(&sha2::Sha256::digest(format!("pix-{k}").as_bytes()).into())),
            };
            serde_json::json!({ "pix_key_type": key_type, "pix_key": key, "name": beneficiary })
        }
        _ => serde_json::json!({
            "bank_code": "001",
            "branch": "0001",
            "account": format!("{k:08}-0"),
            "account_type": "checking",
            "holder_name": beneficiary,
            "holder_tax_id": seeded_cnpj(k),
        }),
    };
    let message = match status {
        "returned" | "error" => vec![ChargeMessage {
            code: "PAYOUT_RETURNED".to_owned(),
            source: "bank".to_owned(),
            description: "Conta de destino invalida (simulador)".to_owned(),
        }],
        _ => Vec::new(),
    };
    Payout {
        payout_uuid: payout_uuid(w, i),
        wallet_uuid: wallet.wallet_uuid,
        external_id: format!("ext-{w:02}-{i:05}"),
        status: status.to_owned(),
        type_payout: type_payout.to_owned(),
        amount: money(cents),
        fee: money(150 + cents / 200),
        currency: wallet.currency,
        description: format!("Repasse {}", i + 1),
        beneficiary_name: beneficiary,
        transaction_reference: format!("payout-ref-{k:06}"),
        submitted_date: created.clone(),
        confirmed_date: settled.then(|| confirmed.clone()),
        payment_code: settled.then(|| format!("E00000000202611{k:018}")),
        authorization_code: settled.then(|| format!("{:06}", (k * 7_919) % 1_000_000)),
        destination,
        message,
        updated: if settled { confirmed } else { created.clone() },
        created,
    }
}

// ---------------------------------------------------------------- subscriptions

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SubscriptionCharge {
    pub(crate) charge_uuid: String,
    pub(crate) amount: f64,
    pub(crate) status: String,
    pub(crate) created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Subscription {
    pub(crate) subscription_uuid: String,
    pub(crate) wallet_uuid: String,
    pub(crate) cycle: String,
    pub(crate) end_date: Option<String>,
    pub(crate) status: String,
    pub(crate) description: String,
    pub(crate) next_due_date: Option<String>,
    pub(crate) charges: Vec<SubscriptionCharge>,
}

pub(crate) fn seeded_subscription(w: usize, i: usize) -> Subscription {
    let active = i != 1;
    let charges = (0..3)
        .map(|n| {
            let charge = seeded_charge(w, i * 3 + n);
            SubscriptionCharge {
                charge_uuid: charge.charge_uuid,
                amount: charge.value,
                status: charge.status,
                created_at: charge.created,
            }
        })
        .collect();
    Subscription {
        subscription_uuid: subscription_uuid(w, i),
        wallet_uuid: wallet_uuid(w),
        cycle: SUBSCRIPTION_CYCLES[i % SUBSCRIPTION_CYCLES.len()].to_owned(),
        end_date: (i == 2).then(|| "2027-11-30".to_owned()),
        status: if active { "active" } else { "canceled" }.to_owned(),
        description: format!("Assinatura {}", w * 1_000 + i),
        next_due_date: active.then(|| format!("2026-12-{:02}", 1 + i * 5)),
        charges,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn wallet_zero_is_the_bigjson_wallet_and_its_charges_share_bigjson_uuids() {
        assert_eq!(wallet_uuid(0), "2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f60");
        assert_eq!(charge_uuid(0, 1), "00000001-5e4f-4a3b-8c2d-000000000001");
    }

    #[test]
    fn identifiers_round_trip_and_foreign_ones_are_rejected() {
        for w in 0..WALLET_COUNT {
            assert_eq!(seeded_wallet_index(&wallet_uuid(w)), Some(w));
            for i in [0, 1, CHARGES_PER_WALLET - 1] {
                assert_eq!(parse_charge_uuid(&charge_uuid(w, i)), Some((w, i)));
            }
            assert_eq!(parse_payout_uuid(&payout_uuid(w, 52)), Some((w, 52)));
            assert_eq!(parse_subscription_uuid(&subscription_uuid(w, 2)), Some((w, 2)));
        }
        assert_eq!(parse_charge_uuid(&charge_uuid(0, CHARGES_PER_WALLET)), None);
        assert_eq!(parse_charge_uuid(&charge_uuid(WALLET_COUNT, 0)), None);
        assert_eq!(parse_charge_uuid(&payout_uuid(0, 0)), None);
        assert_eq!(parse_charge_uuid("not-a-uuid"), None);
        assert_eq!(seeded_wallet_index("2f0c1b7e-3d4a-4e59-9c1a-1b2c3d4e5f99"), None);
    }

    #[test]
    fn seeded_charges_are_dated_in_november_2026_in_index_order() {
        for w in 0..WALLET_COUNT {
            let mut previous = String::new();
            for i in 0..CHARGES_PER_WALLET {
                let created = seeded_charge(w, i).created;
                assert!(created.starts_with("2026-11-"), "{created}");
                assert!(parse_date(&created[..10]).is_some(), "{created}");
                assert!(created > previous);
                previous = created;
            }
        }
        for w in 0..WALLET_COUNT {
            for i in 0..PAYOUTS_PER_WALLET {
                assert!(parse_date(&seeded_payout(w, i).created[..10]).is_some());
            }
        }
    }

    #[test]
    fn seeded_amounts_have_at_most_two_decimals_and_add_up() {
        for i in 0..CHARGES_PER_WALLET {
            let c = seeded_charge(1, i);
            for v in [c.value, c.installment_value, c.usd_currency(), c.conversions.eur_currency] {
                assert!(((v * 100.0).round() - v * 100.0).abs() < 1e-6, "{v}");
            }
            let total: f64 = c.installments.iter().map(|n| n.value).sum();
            assert!((total - c.value).abs() < 0.005);
            assert_eq!(c.message.is_some(), c.status == "error");
        }
    }

    impl Charge {
        fn usd_currency(&self) -> f64 {
            self.conversions.usd_currency
        }
    }

    #[test]
    fn dates_are_validated_and_months_are_added_with_clamping() {
        assert_eq!(parse_date("2026-11-30"), Some((2026, 11, 30)));
        assert_eq!(parse_date("2028-02-29"), Some((2028, 2, 29)));
        for bad in ["2026-11-31", "2026-02-29", "2026-13-01", "2026-1-01", "26-11-01", "2026/11/01", "2026-11-0a", ""] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(add_months((2026, 1, 31), 1), "2026-02-28");
        assert_eq!(add_months((2026, 11, 30), 3), "2027-02-28");
        assert_eq!(add_months((2026, 11, 15), 0), "2026-11-15");
    }

    #[test]
    fn seeded_personal_data_is_valid_for_its_kind() {
        let digits = |t: &str| t.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect::<Vec<_>>();
        for k in 0..2_000 {
            let cpf = seeded_cpf(k);
            assert!(crate::masking::pii::is_valid_cpf(&digits(&cpf)), "{cpf}");
            let cnpj = seeded_cnpj(k);
            assert!(crate::masking::pii::is_valid_cnpj(&digits(&cnpj)), "{cnpj}");
            assert_eq!(seeded_phone(k).len(), "+55 11 91234-5678".len());
        }
        assert_eq!(seeded_cpf(3), seeded_cpf(3), "deterministic");
        for (_, number) in TEST_CARDS {
            assert!(crate::masking::pii::is_luhn_card(&digits(number)), "{number}");
        }
    }

    #[test]
    fn digest_uuids_are_version_4_shaped() {
        let uuid = uuid_from_digest(&[0xff; 32]);
        let parsed = uuid::Uuid::parse_str(&uuid).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }
}
