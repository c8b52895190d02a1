#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed set-up step is a failed test")]
//! The leak canary scan (security cases T-L01, T-L02). `make test` runs the integration suite and the
//! browser suite with canary client secrets and recorded access tokens, logs at trace level, and keeps
//! every log line, every response a client received, the test output (panics included) and the
//! SQLite files (`-wal`/`-shm` too). Then it runs the ignored test below over those directories: no
//! canary may appear, raw or base64 (`id:secret`), URL-, form- or JSON-escaped, or as any 8-character
//! fragment of its random part. The scan proves on each run that it can see what it looks for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::support::canary::SECRETS_FILE;

/// Directories to scan, separated by whitespace (set by `make test`).
const SCAN_VAR: &str = "A55_LEAK_SCAN_DIRS";
const FRAGMENT: usize = 8;

#[derive(Clone, Debug)]
struct Canary {
    label: String,
    bytes: Vec<u8>,
}

/// The random part of a canary: what follows a known prefix, up to the first character outside
/// base64url. For a JWT, the signature. Fragments come only from here, so that shared prefixes
/// ("CANARY-SECRET-") and fixed tails never match each other.
fn random_part(value: &str) -> &str {
    let value = if value.matches('.').count() == 2 { &value[value.rfind('.').unwrap() + 1..] } else { value };
    let rest =
        ["CANARY-SECRET-", "CANARY-WRONG-", "FAULT-AT-"].iter().find_map(|p| value.strip_prefix(p)).unwrap_or(value);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
    &rest[..end]
}

/// Generated canaries and JWTs: values whose random part is known to be random.
fn is_generated(value: &str) -> bool {
    value.matches('.').count() == 2
        || ["CANARY-SECRET-", "CANARY-WRONG-", "FAULT-AT-"].iter().any(|p| value.starts_with(p))
}

fn fragments(label: &str, value: &str) -> Vec<Canary> {
    let random = random_part(value);
    // Test literals ("production-secret") only count whole: their pieces are ordinary words.
    if !is_generated(value) || random.len() < 2 * FRAGMENT {
        return Vec::new();
    }
    (0..=random.len() - FRAGMENT)
        .map(|at| Canary {
            label: format!("{label} (chars {at}..{} of its random part)", at + FRAGMENT),
            bytes: random[at..at + FRAGMENT].into(),
        })
        .collect()
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn url_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A client secret in every form it travels or could be logged in.
fn secret_canaries(client_id: &str, secret: &str, name: &str) -> Vec<Canary> {
    let json = serde_json::to_string(secret).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    let mut forms: Vec<(String, String)> = vec![
        ("raw".into(), secret.to_owned()),
        ("URL-encoded".into(), url_encode(secret)),
        ("form-encoded".into(), form_encode(secret)),
        ("JSON-escaped".into(), json.clone()),
        ("JSON-escaped with \\/".into(), json.replace('/', "\\/")),
        ("Debug-escaped".into(), format!("{secret:?}").trim_matches('"').to_owned()),
        ("base64".into(), STANDARD.encode(secret)),
    ];
    for (what, pair) in [
        ("id:secret", format!("{client_id}:{secret}")),
        ("form(id):form(secret)", format!("{}:{}", form_encode(client_id), form_encode(secret))),
    ] {
        forms.push((format!("base64({what})"), STANDARD.encode(&pair)));
        forms.push((format!("base64({what}) unpadded"), STANDARD_NO_PAD.encode(&pair)));
        forms.push((format!("base64url({what})"), URL_SAFE_NO_PAD.encode(&pair)));
    }
    let mut canaries: Vec<Canary> = forms
        .into_iter()
        .map(|(what, text)| Canary { label: format!("{name} ({what})"), bytes: text.into_bytes() })
        .collect();
    canaries.extend(fragments(name, secret));
    canaries
}

fn token_canaries(token: &str, name: &str) -> Vec<Canary> {
    let mut canaries = vec![Canary { label: format!("{name} (whole)"), bytes: token.into() }];
    if token.matches('.').count() == 2 {
        canaries.push(Canary { label: format!("{name} (signature)"), bytes: random_part(token).into() });
    }
    canaries.extend(fragments(name, token));
    canaries
}

/// One byte sequence searched for; forms with equal bytes share one canary, labelled with all of them.
fn dedupe(canaries: Vec<Canary>) -> Vec<Canary> {
    let mut by_bytes: BTreeMap<Vec<u8>, Vec<String>> = BTreeMap::new();
    for canary in canaries {
        if canary.bytes.len() < FRAGMENT {
            continue;
        }
        by_bytes.entry(canary.bytes).or_default().push(canary.label);
    }
    by_bytes.into_iter().map(|(bytes, labels)| Canary { label: labels.join(" = "), bytes }).collect()
}

struct Hit {
    place: String,
    canary: String,
    offset: usize,
    line: usize,
    context: String,
}

/// 30 bytes either side, with the match replaced by its length: a report never prints a canary.
fn masked(bytes: &[u8], start: usize, end: usize) -> String {
    let show = |from: usize, to: usize| {
        String::from_utf8_lossy(&bytes[from..to])
            .chars()
            .map(|c| if c.is_control() { '·' } else { c })
            .collect::<String>()
    };
    format!(
        "{}«{} bytes»{}",
        show(start.saturating_sub(30), start),
        end - start,
        show(end, (end + 30).min(bytes.len()))
    )
}

fn scan(place: &str, bytes: &[u8], matcher: &AhoCorasick, canaries: &[Canary], hits: &mut Vec<Hit>) {
    for found in matcher.find_overlapping_iter(bytes) {
        hits.push(Hit {
            place: place.to_owned(),
            canary: canaries[found.pattern().as_usize()].label.clone(),
            offset: found.start(),
            line: 1 + bytes[..found.start()].iter().filter(|b| **b == b'\n').count(),
            context: masked(bytes, found.start(), found.end()),
        });
    }
}

/// Raw HTTP/1.1 with chunk-size lines taken out, so that a canary split by chunked framing is found.
fn dechunk(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\r\n") {
            let digits = bytes[i + 2..].iter().take(9).take_while(|b| b.is_ascii_hexdigit()).count();
            if (1..=8).contains(&digits) && bytes[i + 2 + digits..].starts_with(b"\r\n") {
                i += 4 + digits;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Terminal colour codes out, so that a coloured log line reads as it would in plain text.
fn strip_ansi(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < bytes.len() && !bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Every view of a file that is searched: as stored, plus de-chunked HTTP or colourless logs.
fn views(path: &Path, bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let name = path.display().to_string();
    let mut views = Vec::new();
    if name.ends_with(".http") {
        views.push((format!("{name} (chunk framing removed)"), dechunk(&bytes)));
    }
    if name.ends_with(".log") && bytes.contains(&0x1b) {
        views.push((format!("{name} (colours removed)"), strip_ansi(&bytes)));
    }
    views.push((name, bytes));
    views
}

fn is_canary_input(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == SECRETS_FILE || (name.starts_with("issued-tokens") && name.ends_with(".txt"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn canaries_of(dir: &Path) -> (Vec<Canary>, usize, usize) {
    let secrets: Vec<serde_json::Value> = std::fs::read_to_string(dir.join(SECRETS_FILE))
        .unwrap_or_else(|e| panic!("{}: {e}: the suite ran without canary secrets", dir.join(SECRETS_FILE).display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut tokens = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("issued-tokens") && name.ends_with(".txt") {
            tokens.extend(std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
    }
    tokens.sort();
    tokens.dedup();
    let mut canaries = Vec::new();
    let mut seen_secrets = std::collections::BTreeSet::new();
    for (i, secret) in secrets.iter().enumerate() {
        let (id, value) = (secret["client_id"].as_str().unwrap(), secret["secret"].as_str().unwrap());
        if seen_secrets.insert((id.to_owned(), value.to_owned())) {
            canaries.extend(secret_canaries(id, value, &format!("client secret #{} of {id}", i + 1)));
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        canaries.extend(token_canaries(token, &format!("access token #{}", i + 1)));
    }
    (dedupe(canaries), seen_secrets.len(), tokens.len())
}

fn matcher(canaries: &[Canary]) -> AhoCorasick {
    AhoCorasick::new(canaries.iter().map(|c| c.bytes.as_slice())).unwrap()
}

fn report(hits: &[Hit]) -> String {
    let mut places: BTreeMap<String, Vec<&Hit>> = BTreeMap::new();
    for hit in hits {
        places.entry(format!("{}:{}", hit.place, hit.line)).or_default().push(hit);
    }
    let lines: Vec<String> = places
        .iter()
        .take(40)
        .map(|(place, found)| {
            let kinds: std::collections::BTreeSet<&str> = found.iter().map(|h| h.canary.as_str()).collect();
            let first = found.iter().min_by_key(|h| h.offset).unwrap();
            format!(
                "  - {place}: {} match(es): {}; first at byte {}: {}",
                found.len(),
                kinds.into_iter().take(4).collect::<Vec<_>>().join(", "),
                first.offset,
                first.context
            )
        })
        .collect();
    format!("{} leak(s) in {} place(s):\n{}", hits.len(), places.len(), lines.join("\n"))
}

#[test]
fn the_scan_finds_every_form_of_a_planted_canary_and_nothing_in_clean_data() {
    let secret = crate::support::canary_secret();
    let token = format!("FAULT-AT-{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let jwt = format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let canaries = dedupe(
        [
            secret_canaries("e2e-client", &secret, "secret"),
            token_canaries(&token, "token"),
            token_canaries(&jwt, "jwt"),
        ]
        .concat(),
    );
    let labels: Vec<&str> = canaries.iter().map(|c| c.label.as_str()).collect();
    for form in [
        "(raw)",
        "(URL-encoded)",
        "(form-encoded)",
        "(JSON-escaped)",
        "(base64(id:secret))",
        "(base64(form(id):form(secret)))",
    ] {
        assert!(labels.iter().any(|l| l.starts_with("secret ") && l.contains(form)), "no canary for the {form} secret");
    }
    assert!(
        labels.iter().filter(|l| l.starts_with("secret (chars")).count() >= 30,
        "fragments of the secret's random part"
    );
    assert!(labels.iter().filter(|l| l.starts_with("jwt (chars")).count() >= 30, "fragments of the JWT signature");
    assert!(
        !labels.iter().any(|l| l.contains("(chars") && l.contains("CANARY")),
        "fragments never come from the prefix"
    );
    let matcher = matcher(&canaries);

    // Each canary alone, in noise, is found under its own label.
    for canary in &canaries {
        let noise: Vec<u8> = (0..2_000).map(|_| rand::random::<u8>() & 0x7f).collect();
        let planted = [&noise[..], &canary.bytes, &noise[..]].concat();
        let mut hits = Vec::new();
        scan("planted", &planted, &matcher, &canaries, &mut hits);
        assert!(hits.iter().any(|h| h.canary == canary.label && h.offset == 2_000), "{} not found", canary.label);
        assert!(!report(&hits).contains(std::str::from_utf8(&canary.bytes).unwrap()), "the report prints a canary");
    }
    // Realistic carriers: a Basic header, a chunked response split inside the token, a coloured log line.
    let basic = format!(
        "authorization: Basic {}\r\n",
        STANDARD.encode(format!("{}:{}", form_encode("e2e-client"), form_encode(&secret)))
    );
    let (head, tail) = token.split_at(20);
    let chunked = format!(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{head}\r\n{:x}\r\n{tail}\r\n0\r\n\r\n",
        head.len(),
        tail.len()
    );
    // Colour codes inside the token: only the colourless view has it whole.
    let log =
        format!("\x1b[2m2026\x1b[0m \x1b[35mTRACE\x1b[0m sending \x1b[1m{}\x1b[22m{}\x1b[0m\n", &jwt[..30], &jwt[30..]);
    let mut hits = Vec::new();
    for (name, bytes) in
        [("basic.log", basic.into_bytes()), ("r.http", chunked.into_bytes()), ("c.log", log.into_bytes())]
    {
        for (place, view) in views(Path::new(name), bytes) {
            scan(&place, &view, &matcher, &canaries, &mut hits);
        }
    }
    let places: std::collections::BTreeSet<&str> = hits.iter().map(|h| h.place.as_str()).collect();
    assert!(places.contains("basic.log"), "{}", report(&hits));
    assert!(places.contains("r.http (chunk framing removed)"), "{}", report(&hits));
    assert!(
        hits.iter().any(|h| h.place == "c.log (colours removed)" && h.canary == "jwt (whole)"),
        "{}",
        report(&hits)
    );

    // Clean data: random bytes, and what the browser may see (fingerprints, decoded claims).
    let clean: Vec<u8> = (0..500_000).map(|_| rand::random::<u8>()).collect();
    let mut hits = Vec::new();
    scan("noise", &clean, &matcher, &canaries, &mut hits);
    scan("claims", br#"{"sub":"x","fingerprint":"1a2b3c4d","alg":"HS256"}"#, &matcher, &canaries, &mut hits);
    assert!(hits.is_empty(), "{}", report(&hits));
}

#[test]
#[ignore = "run by `make test` after both suites, with A55_LEAK_SCAN_DIRS naming their output"]
fn no_canary_appears_in_any_log_response_test_output_or_database_of_the_test_runs() {
    let dirs = std::env::var(SCAN_VAR).unwrap_or_else(|_| panic!("{SCAN_VAR} is not set: run `make test`"));
    let dirs: Vec<PathBuf> = dirs.split_whitespace().map(PathBuf::from).collect();
    assert!(!dirs.is_empty(), "{SCAN_VAR} names no directory");
    let mut hits = Vec::new();
    let mut summary = Vec::new();
    for dir in &dirs {
        assert!(dir.is_dir(), "{} does not exist: the suite did not run in canary mode", dir.display());
        let (canaries, secrets, tokens) = canaries_of(dir);
        assert!(secrets > 0 && tokens > 0, "{}: {secrets} secrets and {tokens} tokens recorded", dir.display());
        let matcher = matcher(&canaries);

        // The scan must be able to see: every canary planted in a control file is found.
        let control: Vec<u8> = canaries.iter().flat_map(|c| [b"<<".as_slice(), &c.bytes, b">>"].concat()).collect();
        let mut control_hits = Vec::new();
        scan("control", &control, &matcher, &canaries, &mut control_hits);
        let found: std::collections::BTreeSet<&str> = control_hits.iter().map(|h| h.canary.as_str()).collect();
        let missed: Vec<&str> = canaries.iter().map(|c| c.label.as_str()).filter(|l| !found.contains(l)).collect();
        assert!(missed.is_empty(), "{}: the scan missed planted canaries: {missed:?}", dir.display());

        let mut files = Vec::new();
        files_under(dir, &mut files);
        files.retain(|f| !is_canary_input(f));
        let (mut bytes, mut logs, mut databases, mut responses, mut trace_lines, mut token_lines) = (0, 0, 0, 0, 0, 0);
        for file in &files {
            let content = std::fs::read(file).unwrap();
            let name = file.display().to_string();
            bytes += content.len();
            if name.ends_with(".log") && !content.is_empty() {
                logs += 1;
                let text = String::from_utf8_lossy(&content);
                trace_lines += text.lines().filter(|l| l.contains("TRACE")).count();
                token_lines += text.lines().filter(|l| l.contains("access token obtained")).count();
            }
            if name.ends_with(".db") || name.ends_with(".db-wal") || name.ends_with(".db-shm") {
                databases += 1;
            }
            if name.contains("/responses/") || name.contains("/received/") {
                responses += 1;
            }
            for (place, view) in views(file, content) {
                scan(&place, &view, &matcher, &canaries, &mut hits);
            }
        }
        // Not vacuous: the logs are at trace level and cover token requests, responses and databases exist.
        assert!(logs > 0 && trace_lines > 0, "{}: no trace-level log captured", dir.display());
        assert!(token_lines > 0, "{}: the logs never show a token being obtained", dir.display());
        assert!(databases > 0, "{}: no SQLite file kept", dir.display());
        assert!(responses > 0, "{}: no response recorded", dir.display());
        summary.push(format!(
            "{}: {} files, {bytes} bytes ({logs} logs with {trace_lines} trace lines, {databases} SQLite files, {responses} responses); {secrets} secrets, {tokens} tokens, {} canaries",
            dir.display(),
            files.len(),
            canaries.len()
        ));
    }
    println!("leak canary scan:\n{}", summary.join("\n"));
    assert!(hits.is_empty(), "{}\n(scanned: {})", report(&hits), summary.join("; "));
}
