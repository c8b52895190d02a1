//! Personal data (demo mode): detectors with check digits (CPF, CNPJ, Luhn), e-mail and phone
//! formats, and shape-keeping masks (same length, separators kept, last digits where customary).
//!
//! Every mask is idempotent: masked text never matches a detector again, and a mask applied to its
//! own output returns it unchanged.

/// The kinds of personal data demo mode masks, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Personal {
    Email,
    Cpf,
    Cnpj,
    Phone,
    Card,
    Name,
    Address,
    PixKey,
    TaxId,
    Account,
    Rule,
}

impl Personal {
    pub const ALL: [Self; 11] = [
        Self::Email,
        Self::Cpf,
        Self::Cnpj,
        Self::Phone,
        Self::Card,
        Self::Name,
        Self::Address,
        Self::PixKey,
        Self::TaxId,
        Self::Account,
        Self::Rule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Cpf => "cpf",
            Self::Cnpj => "cnpj",
            Self::Phone => "phone",
            Self::Card => "card",
            Self::Name => "name",
            Self::Address => "address",
            Self::PixKey => "pix_key",
            Self::TaxId => "tax_id",
            Self::Account => "account",
            Self::Rule => "rule",
        }
    }
}

/// The character that replaces what is hidden.
pub const HIDDEN: char = '*';

fn digits(text: &str) -> Vec<u8> {
    text.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

/// A Brazilian individual taxpayer number with valid check digits (formatted or not).
pub fn is_valid_cpf(d: &[u8]) -> bool {
    if d.len() != 11 || all_same(d) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = d[..len].iter().enumerate().map(|(i, &x)| u32::from(x) * (len as u32 + 1 - i as u32)).sum();
        let rest = (sum * 10) % 11;
        if rest == 10 {
            0
        } else {
            rest as u8
        }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// A Brazilian company number with valid check digits.
pub fn is_valid_cnpj(d: &[u8]) -> bool {
    if d.len() != 14 || all_same(d) {
        return false;
    }
    let check = |len: usize| {
        let weights: &[u32] =
            if len == 12 { &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2] } else { &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2] };
        let sum: u32 = d[..len].iter().zip(weights).map(|(&x, w)| u32::from(x) * w).sum();
        let rest = sum % 11;
        if rest < 2 {
            0
        } else {
            (11 - rest) as u8
        }
    };
    check(12) == d[12] && check(13) == d[13]
}

/// Luhn check over card-length digit strings (13 to 19 digits).
pub fn is_luhn_card(d: &[u8]) -> bool {
    if !(13..=19).contains(&d.len()) || all_same(d) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let doubled = x * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Hides every letter and digit except the last `keep` digits; separators stay, so the shape does.
pub fn keep_last_digits(text: &str, keep: usize) -> String {
    let total = text.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > total.saturating_sub(keep) {
                    c
                } else {
                    HIDDEN
                }
            } else if c.is_alphanumeric() {
                HIDDEN
            } else {
                c
            }
        })
        .collect()
}

/// Hides all but the first letter of each word: "Maria da Silva" → "M**** d* S****".
pub fn initials(text: &str) -> String {
    let mut start = true;
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == HIDDEN {
                let out = if start { c } else { HIDDEN };
                start = false;
                out
            } else {
                start = true;
                c
            }
        })
        .collect()
}

/// Hides every letter and digit: for values whose every character is personal (street numbers, rules).
pub fn hide_all(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() { HIDDEN } else { c }).collect()
}

/// Second-level labels kept before a country code (`example.com.br` keeps `.com.br`).
const GENERIC_SECOND_LEVEL: [&str; 7] = ["com", "net", "org", "gov", "edu", "co", "ind"];

/// "maria.souza@example.com.br" → "m**********@*******.com.br": the first character and the public
/// suffix stay, so the value still reads as an address.
pub fn mask_email(text: &str) -> String {
    let Some(at) = text.rfind('@') else { return initials(text) };
    let (local, domain) = (&text[..at], &text[at + 1..]);
    let mut out = String::with_capacity(text.len());
    let mut chars = local.chars();
    if let Some(first) = chars.next() {
        out.push(first);
    }
    out.extend(chars.map(|_| HIDDEN));
    out.push('@');
    let labels: Vec<&str> = domain.split('.').collect();
    let mut kept = 1;
    if labels.len() >= 3
        && labels[labels.len() - 1].len() == 2
        && GENERIC_SECOND_LEVEL.contains(&labels[labels.len() - 2].to_ascii_lowercase().as_str())
    {
        kept = 2;
    }
    let hidden = labels.len().saturating_sub(kept);
    let masked: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| if i < hidden { label.chars().map(|_| HIDDEN).collect() } else { (*label).to_owned() })
        .collect();
    out.push_str(&masked.join("."));
    out
}

/// "+55 11 91234-5678" → "+55 ** *****-5678": the country code and the last four digits stay.
pub fn mask_phone(text: &str) -> String {
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix("+55") {
        return format!("{}+55{}", &text[..lead], keep_last_digits(rest, 4));
    }
    keep_last_digits(text, 4)
}

/// A pix key of any type: e-mail, phone, CPF/CNPJ (last two digits), random key (last four).
pub fn mask_pix_key(text: &str) -> String {
    if text.contains('@') {
        return mask_email(text);
    }
    let d = digits(text);
    if is_valid_cpf(&d) || is_valid_cnpj(&d) {
        return keep_last_digits(text, 2);
    }
    if text.trim_start().starts_with('+') {
        return mask_phone(text);
    }
    keep_last_characters(text, 4)
}

/// Hides letters and digits except the last `keep` of them (random pix keys, account numbers).
pub fn keep_last_characters(text: &str, keep: usize) -> String {
    let total = text.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen > total.saturating_sub(keep) {
                    c
                } else {
                    HIDDEN
                }
            } else {
                c
            }
        })
        .collect()
}

/// A number value under a personal key: digits hidden behind nines except the last `keep`, so the
/// value stays a valid JSON number of the same length.
pub fn mask_number(raw: &str, keep: usize) -> String {
    let total = raw.bytes().take_while(|b| *b != b'.' && *b != b'e' && *b != b'E').filter(u8::is_ascii_digit).count();
    let mut seen = 0;
    let mut in_integer = true;
    raw.chars()
        .map(|c| {
            if c == '.' || c == 'e' || c == 'E' {
                in_integer = false;
                return c;
            }
            if !c.is_ascii_digit() {
                return c;
            }
            if !in_integer {
                return '0';
            }
            seen += 1;
            if seen > total.saturating_sub(keep) {
                c
            } else {
                '9'
            }
        })
        .collect()
}

/// Finds personal data inside free text (string values, text bodies, query values) and masks each
/// occurrence. Returns `None` when nothing was found; otherwise the text and one kind per find.
pub fn mask_free_text(text: &str) -> Option<(String, Vec<Personal>)> {
    let bytes = text.as_bytes();
    let mut finds: Vec<(usize, usize, Personal)> = Vec::new();
    find_emails(bytes, &mut finds);
    find_numbers(bytes, &mut finds);
    if finds.is_empty() {
        return None;
    }
    finds.sort_by_key(|f| f.0);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut kinds = Vec::new();
    for (start, end, kind) in finds {
        if start < copied {
            continue;
        }
        out.push_str(&text[copied..start]);
        let found = &text[start..end];
        out.push_str(&match kind {
            Personal::Email => mask_email(found),
            Personal::Cpf | Personal::Cnpj => keep_last_digits(found, 2),
            Personal::Card => keep_last_digits(found, 4),
            _ => mask_phone(found),
        });
        kinds.push(kind);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Some((out, kinds))
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

fn find_emails(bytes: &[u8], finds: &mut Vec<(usize, usize, Personal)>) {
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'@') {
        let mut start = at;
        while start > 0 && is_local_char(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain_char(bytes[end]) {
            end += 1;
        }
        // A sentence may end right after the address.
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let domain = &bytes[at + 1..end];
        let tld = domain.rsplit(|b| *b == b'.').next().unwrap_or_default();
        let valid = start < at
            && domain.contains(&b'.')
            && !domain.starts_with(b".")
            && !domain.starts_with(b"-")
            && tld.len() >= 2
            && tld.iter().all(u8::is_ascii_alphabetic);
        if valid {
            finds.push((start, end, Personal::Email));
        }
    }
}

/// Runs of digits joined by single separators (`.`, `-`, `/`, space, parentheses), with a leading
/// `+` or `(` allowed, that are not glued to letters or digits on either side (so UUIDs, timestamps
/// and codes stay).
fn find_numbers(bytes: &[u8], finds: &mut Vec<(usize, usize, Personal)>) {
    let glued = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'@';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let starts =
            b.is_ascii_digit() || ((b == b'+' || b == b'(') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !starts || (i > 0 && glued(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        while end < bytes.len() {
            let c = bytes[end];
            if c.is_ascii_digit() {
                end += 1;
            } else if b".-/ )(".contains(&c)
                && bytes.get(end + 1).is_some_and(|n| n.is_ascii_digit() || *n == b' ' || *n == b'(')
            {
                // At most one separator (plus a space after a parenthesis) between digits.
                if c == b' ' && bytes.get(end + 1) == Some(&b' ') {
                    break;
                }
                end += 1;
            } else if c == b')' {
                end += 1;
            } else {
                break;
            }
        }
        while end > start && !bytes[end - 1].is_ascii_digit() {
            end -= 1;
        }
        if end < bytes.len() && glued(bytes[end]) {
            // Glued to a word or an e-mail: skip the whole run.
            i = end + 1;
            continue;
        }
        if let Some(kind) = classify_number(&bytes[start..end]) {
            finds.push((start, end, kind));
        }
        i = end.max(start + 1);
    }
}

fn classify_number(run: &[u8]) -> Option<Personal> {
    let text = std::str::from_utf8(run).ok()?;
    let d = digits(text);
    let separators: Vec<u8> = run.iter().copied().filter(|b| !b.is_ascii_digit()).collect();
    let plain = separators.is_empty();
    let only = |allowed: &[u8]| separators.iter().all(|s| allowed.contains(s));
    if d.len() == 11 && (plain || (only(b".-") && looks_like(run, b"ddd.ddd.ddd-dd"))) && is_valid_cpf(&d) {
        return Some(Personal::Cpf);
    }
    if d.len() == 14 && (plain || (only(b"./-") && looks_like(run, b"dd.ddd.ddd/dddd-dd"))) && is_valid_cnpj(&d) {
        return Some(Personal::Cnpj);
    }
    if is_luhn_card(&d) && only(b" -") && !run.starts_with(b"+") {
        return Some(Personal::Card);
    }
    if is_phone_format(run, &d) {
        return Some(Personal::Phone);
    }
    None
}

/// `d` in the pattern stands for a digit; everything else must match exactly.
fn looks_like(run: &[u8], pattern: &[u8]) -> bool {
    run.len() == pattern.len()
        && run.iter().zip(pattern).all(|(r, p)| if *p == b'd' { r.is_ascii_digit() } else { r == p })
}

/// Brazilian phone numbers written as phone numbers: `+55 11 91234-5678`, `+5511912345678`,
/// `(11) 91234-5678`, `11 91234-5678`, `(11) 3456-7890`. Bare digit strings are left alone here
/// (too many ids look like them); fields named as phones are masked whatever their format.
fn is_phone_format(run: &[u8], d: &[u8]) -> bool {
    let national = |d: &[u8]| {
        (d.len() == 11 && d[0] != 0 && d[1] != 0 && d[2] == 9)
            || (d.len() == 10 && d[0] != 0 && d[1] != 0 && (2..=5).contains(&d[2]))
    };
    if run.starts_with(b"+55") {
        return national(&d[2..]);
    }
    let has_dash_before_last4 = run.len() > 5 && run[run.len() - 5] == b'-';
    (run.starts_with(b"(") || run.contains(&b' ')) && has_dash_before_last4 && national(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(text: &str) -> String {
        mask_free_text(text).map_or_else(|| text.to_owned(), |(masked, _)| masked)
    }

    #[test]
    fn check_digits_decide_what_is_a_cpf_or_a_cnpj() {
        assert!(is_valid_cpf(&digits("123.456.789-09")));
        assert!(is_valid_cpf(&digits("52998224725")));
        assert!(!is_valid_cpf(&digits("12345678901")), "wrong check digits");
        assert!(!is_valid_cpf(&digits("11111111111")), "repeated digits pass the sums but are not issued");
        assert!(is_valid_cnpj(&digits("11.222.333/0001-81")));
        assert!(is_valid_cnpj(&digits("12345678000195")));
        assert!(!is_valid_cnpj(&digits("12345678000196")));
        assert!(is_luhn_card(&digits("4111 1111 1111 1111")));
        assert!(is_luhn_card(&digits("5555555555554444")));
        assert!(!is_luhn_card(&digits("4111 1111 1111 1112")));
    }

    #[test]
    fn golden_free_text_masks_for_each_kind() {
        let cases = [
            ("maria.souza@example.com.br", "m**********@*******.com.br"),
            ("write to ana@a55.tech.", "write to a**@***.tech."),
            ("123.456.789-09", "***.***.***-09"),
            ("52998224725", "*********25"),
            ("CNPJ 11.222.333/0001-81 ok", "CNPJ **.***.***/****-81 ok"),
            ("12345678000195", "************95"),
            ("card 4111 1111 1111 1111", "card **** **** **** 1111"),
            ("5555-5555-5555-4444", "****-****-****-4444"),
            ("4111111111111111", "************1111"),
            ("+55 11 91234-5678", "+55 ** *****-5678"),
            ("+5511912345678", "+55*******5678"),
            ("call (11) 91234-5678 now", "call (**) *****-5678 now"),
            ("(21) 3456-7890", "(**) ****-7890"),
        ];
        for (input, expected) in cases {
            assert_eq!(free(input), expected, "{input}");
            assert_eq!(free(expected), expected, "masking {expected:?} again changes nothing");
        }
    }

    #[test]
    fn look_alikes_that_are_not_personal_data_stay() {
        for text in [
            "12345678901",                          // 11 digits, not a valid CPF
            "123.456.789-01",                       // formatted, wrong check digits
            "12345678000197",                       // 14 digits, wrong CNPJ check digits, fails Luhn
            "4111 1111 1111 1112",                  // fails Luhn
            "00000000-0000-4000-8000-000000000001", // a UUID made of digits
            "2026-11-01T09:00:00Z",
            "2026-11-01",
            "1234.56",
            "E00000000202611000000000000000123",
            "11912345678", // a bare mobile number: only fields named as phones mask it
            "ref 52998224725abc",
            "user@localhost",
            "@handle",
            "v1.2.3",
        ] {
            assert_eq!(mask_free_text(text), None, "{text}");
        }
    }

    type FieldMask<'a> = &'a dyn Fn(&str) -> String;

    #[test]
    fn field_masks_keep_the_shape_and_are_idempotent() {
        let cases: [(FieldMask<'_>, &str, &str); 9] = [
            (&initials, "Maria da Silva", "M**** d* S****"),
            (&initials, "José Ávila", "J*** Á****"),
            (&mask_phone, "+5511912345678", "+55*******5678"),
            (&mask_phone, "11912345678", "*******5678"),
            (&|t: &str| keep_last_digits(t, 2), "529.982.247-25", "***.***.***-25"),
            (&mask_pix_key, "fornecedor1@example.com.br", "f**********@*******.com.br"),
            (&mask_pix_key, "3f0c2e1a-7b4d-4c8e-9a1f-2b3c4d5e6f70", "********-****-****-****-********6f70"),
            (&mask_pix_key, "52998224725", "*********25"),
            (&hide_all, "Apto 12", "**** **"),
        ];
        for (mask, input, expected) in cases {
            assert_eq!(mask(input), expected, "{input}");
            assert_eq!(mask(expected), expected, "{expected} again");
            assert_eq!(mask(input).chars().count(), input.chars().count(), "same length: {input}");
        }
        assert_eq!(mask_number("52998224725", 2), "99999999925");
        assert_eq!(mask_number("-1234.5", 2), "-9934.0");
        assert_eq!(mask_number("99999999925", 2), "99999999925");
    }
}
