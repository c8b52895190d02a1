//! Curl import: a partner's curl command turned into a request draft for one of the configured
//! environments, with notices for everything dropped (credentials, cookies, options the console
//! controls). Pure: the caller passes the environments and the catalog.

use app::wire::{CurlImport, Endpoint, ExecuteRequest};
use percent_encoding::percent_decode_str;
use url::Url;

/// Longest command accepted (bodies included); partner commands are a few KB.
const MAX_COMMAND_LEN: usize = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CurlError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, CurlError> {
    Err(CurlError(message.into()))
}

/// An environment a URL may belong to.
pub struct KnownEnvironment {
    pub id: String,
    pub api_base: Url,
}

/// Parses `command` and fills a draft: environment by host (and base path), endpoint by method and
/// path template, query string into query values, headers that pass the console's policy, body.
pub fn import(
    command: &str,
    environments: &[KnownEnvironment],
    endpoints: &[Endpoint],
) -> Result<CurlImport, CurlError> {
    if command.len() > MAX_COMMAND_LEN {
        return fail(format!("the command is longer than {MAX_COMMAND_LEN} characters"));
    }
    let words = split_words(command)?;
    let parsed = parse_args(&words)?;
    let mut notices = parsed.notices;
    let Some(raw_url) = parsed.url else {
        return fail("the command has no URL: paste the whole curl command, URL included");
    };
    let url = parse_url(&raw_url, &mut notices)?;
    let environment = match_environment(&url, environments, &mut notices)?;
    let base_path = environment.api_base.path();
    let relative = url.path().strip_prefix(base_path.trim_end_matches('/')).unwrap_or(url.path());
    let relative = if relative.starts_with('/') { relative.to_owned() } else { format!("/{relative}") };

    let mut query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut method = parsed.method.clone();
    let mut body = parsed.data.clone();
    if parsed.get {
        // -G turns the data into the query string of a GET.
        if let Some(data) = body.take() {
            query.extend(url::form_urlencoded::parse(data.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        method.get_or_insert_with(|| "GET".to_owned());
    }
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.to_owned()).to_ascii_uppercase();
    if crate::upstream::parse_method(&method).is_err() {
        return fail(format!(
            "method {method:?} cannot be sent; the console sends GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"
        ));
    }

    let mut headers = parsed.headers;
    if body.is_some() && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
        headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
        notices.push(
            "curl sends -d data as application/x-www-form-urlencoded when no Content-Type is given; \
             that header was added to reproduce it (set application/json if the partner's client sends JSON)"
                .into(),
        );
    }

    let mut request = ExecuteRequest {
        environment: environment.id.clone(),
        method: method.clone(),
        query,
        headers,
        body,
        ..ExecuteRequest::default()
    };
    match match_endpoint(&method, &relative, endpoints) {
        Some((endpoint, params)) => {
            request.path = endpoint.path.clone();
            request.path_params = params;
            request.endpoint_id = Some(endpoint.id.clone());
        }
        None => {
            notices.push(format!("no catalog operation matches {method} {relative}: it opens as a raw request"));
            request.path = relative;
        }
    }
    Ok(CurlImport { request, notices })
}

// ------------------------------------------------------------------ words

/// Splits a shell command line the way bash would for the quoting curl commands use: `'…'`,
/// `"…"` (with `\"`, `\\`, `\$`, `` \` ``), `$'…'` (ANSI-C escapes), backslash escapes and line
/// continuations (`\` + newline, and `^` + newline from Windows' cmd).
pub fn split_words(text: &str) -> Result<Vec<String>, CurlError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(next) => {
                    current.push(next);
                    in_word = true;
                }
                None => {}
            },
            '^' if matches!(chars.peek(), Some('\n' | '\r')) => {
                while matches!(chars.peek(), Some('\n' | '\r')) {
                    chars.next();
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(inner) => current.push(inner),
                        None => return fail("a ' quote is not closed"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped @ ('"' | '\\' | '$' | '`')) => current.push(escaped),
                            Some('\n') => {}
                            Some(other) => {
                                current.push('\\');
                                current.push(other);
                            }
                            None => return fail("a \" quote is not closed"),
                        },
                        Some(inner) => current.push(inner),
                        None => return fail("a \" quote is not closed"),
                    }
                }
            }
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                in_word = true;
                ansi_c_quoted(&mut chars, &mut current)?;
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// The body of `$'…'` (Chrome's "Copy as cURL (bash)" uses it for bodies with quotes or newlines).
fn ansi_c_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) -> Result<(), CurlError> {
    loop {
        match chars.next() {
            Some('\'') => return Ok(()),
            Some('\\') => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some(c @ ('\\' | '\'' | '"' | '?')) => out.push(c),
                Some(kind @ ('x' | 'u' | 'U')) => {
                    let max = match kind {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut digits = String::new();
                    while digits.len() < max && chars.peek().is_some_and(char::is_ascii_hexdigit) {
                        digits.extend(chars.next());
                    }
                    match u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32) {
                        Some(c) => out.push(c),
                        None => return fail(format!("bad escape \\{kind}{digits} in a $'…' string")),
                    }
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return fail("a $' quote is not closed"),
            },
            Some(c) => out.push(c),
            None => return fail("a $' quote is not closed"),
        }
    }
}

// ------------------------------------------------------------------ options

#[derive(Default)]
struct Parsed {
    url: Option<String>,
    method: Option<String>,
    headers: Vec<(String, String)>,
    data: Option<String>,
    get: bool,
    notices: Vec<String>,
}

enum Opt {
    Request,
    Header,
    Data,
    DataRaw,
    DataBinary,
    DataUrlencode,
    Json,
    Url,
    User,
    Bearer,
    Cookie,
    UserAgent,
    Referer,
    Form,
    Upload,
    Proxy,
    /// Takes a value that does not change the request (output files, timeouts, TLS files).
    IgnoredValue,
    Get,
    Head,
    Insecure,
    Location,
    /// A flag that does not change the request (`-s`, `-v`, `--compressed`, …).
    IgnoredFlag,
}

fn long_option(name: &str) -> Option<Opt> {
    Some(match name {
        "request" => Opt::Request,
        "header" => Opt::Header,
        "data" | "data-ascii" => Opt::Data,
        "data-raw" => Opt::DataRaw,
        "data-binary" => Opt::DataBinary,
        "data-urlencode" => Opt::DataUrlencode,
        "json" => Opt::Json,
        "url" => Opt::Url,
        "user" => Opt::User,
        "oauth2-bearer" => Opt::Bearer,
        "cookie" => Opt::Cookie,
        "user-agent" => Opt::UserAgent,
        "referer" => Opt::Referer,
        "form" | "form-string" => Opt::Form,
        "upload-file" => Opt::Upload,
        "proxy" => Opt::Proxy,
        "output" | "max-time" | "connect-timeout" | "write-out" | "retry" | "retry-delay" | "retry-max-time"
        | "cookie-jar" | "cacert" | "capath" | "cert" | "key" | "resolve" | "connect-to" | "limit-rate"
        | "max-redirs" | "dump-header" | "trace" | "trace-ascii" | "stderr" | "config" => Opt::IgnoredValue,
        "get" => Opt::Get,
        "head" => Opt::Head,
        "insecure" => Opt::Insecure,
        "location" | "location-trusted" => Opt::Location,
        "compressed"
        | "silent"
        | "show-error"
        | "verbose"
        | "include"
        | "fail"
        | "fail-with-body"
        | "globoff"
        | "no-buffer"
        | "http1.0"
        | "http1.1"
        | "http2"
        | "http2-prior-knowledge"
        | "http3"
        | "no-progress-meter"
        | "progress-bar"
        | "ipv4"
        | "ipv6"
        | "tr-encoding"
        | "path-as-is"
        | "ssl-no-revoke"
        | "remote-name" => Opt::IgnoredFlag,
        _ => return None,
    })
}

fn short_option(letter: char) -> Option<Opt> {
    Some(match letter {
        'X' => Opt::Request,
        'H' => Opt::Header,
        'd' => Opt::Data,
        'u' => Opt::User,
        'b' => Opt::Cookie,
        'A' => Opt::UserAgent,
        'e' => Opt::Referer,
        'F' => Opt::Form,
        'T' => Opt::Upload,
        'x' => Opt::Proxy,
        'o' | 'm' | 'w' | 'c' | 'E' | 'D' | 'K' => Opt::IgnoredValue,
        'G' => Opt::Get,
        'I' => Opt::Head,
        'k' => Opt::Insecure,
        'L' => Opt::Location,
        's' | 'S' | 'v' | 'i' | 'f' | 'g' | 'N' | '#' | '4' | '6' | 'O' | 'Z' => Opt::IgnoredFlag,
        _ => return None,
    })
}

fn takes_value(opt: &Opt) -> bool {
    !matches!(opt, Opt::Get | Opt::Head | Opt::Insecure | Opt::Location | Opt::IgnoredFlag)
}

fn parse_args(words: &[String]) -> Result<Parsed, CurlError> {
    let mut words = words.iter();
    match words.next() {
        Some(first) if first == "curl" || first.ends_with("/curl") || first.eq_ignore_ascii_case("curl.exe") => {}
        _ => return fail("this is not a curl command: it should start with `curl`"),
    }
    let mut parsed = Parsed::default();
    let mut only_urls = false;
    while let Some(word) = words.next() {
        if only_urls || !word.starts_with('-') || word == "-" {
            set_url(&mut parsed, word)?;
            continue;
        }
        if word == "--" {
            only_urls = true;
            continue;
        }
        if let Some(name) = word.strip_prefix("--") {
            let Some(opt) = long_option(name) else {
                return fail(format!("curl option --{name} is not supported by the import: remove it and paste again"));
            };
            let value = if takes_value(&opt) {
                Some(words.next().ok_or_else(|| CurlError(format!("curl option --{name} needs a value")))?.clone())
            } else {
                None
            };
            apply(&mut parsed, opt, &format!("--{name}"), value)?;
            continue;
        }
        // A cluster of short options: `-sS`, `-XPOST`, `-H'Accept: x'`.
        for (index, letter) in word[1..].char_indices() {
            let Some(opt) = short_option(letter) else {
                return fail(format!(
                    "curl option -{letter} is not supported by the import: remove it and paste again"
                ));
            };
            if takes_value(&opt) {
                let rest = &word[1 + index + letter.len_utf8()..];
                let value = if rest.is_empty() {
                    words.next().ok_or_else(|| CurlError(format!("curl option -{letter} needs a value")))?.clone()
                } else {
                    rest.to_owned()
                };
                apply(&mut parsed, opt, &format!("-{letter}"), Some(value))?;
                break;
            }
            apply(&mut parsed, opt, &format!("-{letter}"), None)?;
        }
    }
    Ok(parsed)
}

fn set_url(parsed: &mut Parsed, value: &str) -> Result<(), CurlError> {
    if parsed.url.is_some() {
        return fail("the command has more than one URL: import one request at a time");
    }
    parsed.url = Some(value.to_owned());
    Ok(())
}

fn add_data(parsed: &mut Parsed, data: String) {
    parsed.data = Some(match parsed.data.take() {
        // curl joins several -d values with '&'.
        Some(before) => format!("{before}&{data}"),
        None => data,
    });
}

fn apply(parsed: &mut Parsed, opt: Opt, flag: &str, value: Option<String>) -> Result<(), CurlError> {
    let value = value.unwrap_or_default();
    let file_data = |value: &str| {
        if value.starts_with('@') {
            fail(format!("{flag} {value} reads a file the console cannot see: paste the file's content instead"))
        } else {
            Ok(())
        }
    };
    match opt {
        Opt::Request => parsed.method = Some(value.to_ascii_uppercase()),
        Opt::Header => header(parsed, &value)?,
        Opt::Data | Opt::DataBinary => {
            file_data(&value)?;
            add_data(parsed, value);
        }
        Opt::DataRaw => add_data(parsed, value),
        Opt::DataUrlencode => {
            file_data(&value)?;
            let encoded = match value.split_once('=') {
                Some((name, content)) if !name.is_empty() => format!("{name}={}", form_encode(content)),
                Some((_, content)) => form_encode(content),
                None => form_encode(&value),
            };
            add_data(parsed, encoded);
        }
        Opt::Json => {
            file_data(&value)?;
            add_data(parsed, value);
            for (name, content) in [("Content-Type", "application/json"), ("Accept", "application/json")] {
                if !parsed.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    parsed.headers.push((name.into(), content.into()));
                }
            }
        }
        Opt::Url => set_url(parsed, &value)?,
        Opt::User => parsed.notices.push(format!(
            "dropped the credentials given with {flag}: the console authenticates with the environment's own client"
        )),
        Opt::Bearer => parsed
            .notices
            .push(format!("dropped the token given with {flag}: the console adds the environment's own token")),
        Opt::Cookie => parsed.notices.push(format!("dropped the cookies given with {flag}: a55 does not use cookies")),
        Opt::UserAgent => header(parsed, &format!("User-Agent: {value}"))?,
        Opt::Referer => parsed.notices.push(format!("ignored {flag} (the console does not send a Referer)")),
        Opt::Form => {
            return fail(format!("{flag} sends a multipart form, which the console does not send (a55 takes JSON)"))
        }
        Opt::Upload => return fail(format!("{flag} uploads a file the console cannot see")),
        Opt::Proxy => parsed.notices.push(format!("ignored {flag}: the console connects to the environment directly")),
        Opt::IgnoredValue | Opt::IgnoredFlag => {}
        Opt::Get => parsed.get = true,
        Opt::Head => parsed.method = Some("HEAD".into()),
        Opt::Insecure => parsed.notices.push(format!("ignored {flag}: the console always verifies TLS certificates")),
        Opt::Location => parsed.notices.push(format!("ignored {flag}: the console never follows redirects")),
    }
    Ok(())
}

/// Form encoding as `--data-urlencode` does it.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn header(parsed: &mut Parsed, line: &str) -> Result<(), CurlError> {
    if line.starts_with('@') {
        return fail(format!("-H {line} reads headers from a file the console cannot see: paste them instead"));
    }
    let Some((name, value)) = line.split_once(':') else {
        // `-H 'Name;'` sends an empty header; nothing a55 needs.
        parsed.notices.push(format!("ignored the header {line:?}, which has no ':'"));
        return Ok(());
    };
    let (name, value) = (name.trim(), value.trim());
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "authorization" | "proxy-authorization" => {
            parsed.notices.push(format!("dropped the {name} header: the console adds the environment's own token"));
        }
        "cookie" => parsed.notices.push("dropped the Cookie header: a55 does not use cookies".into()),
        // The console negotiates compression and framing itself.
        "accept-encoding" | "content-length" | "connection" | "host" | "expect" => {}
        _ if value.is_empty() => {}
        _ => match crate::upstream::request_headers(&[(name.to_owned(), value.to_owned())]) {
            Ok(_) => parsed.headers.push((name.to_owned(), value.to_owned())),
            Err(error) => parsed.notices.push(format!("dropped a header: {error}")),
        },
    }
    Ok(())
}

// ------------------------------------------------------------------ matching

fn parse_url(raw: &str, notices: &mut Vec<String>) -> Result<Url, CurlError> {
    // curl accepts a URL without a scheme; the environment's scheme decides, so any will do here.
    let text = if raw.contains("://") { raw.to_owned() } else { format!("https://{raw}") };
    let mut url = Url::parse(&text).map_err(|e| CurlError(format!("{raw:?} is not a URL curl could send ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        notices.push("dropped the credentials written in the URL".into());
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    if url.fragment().is_some() {
        url.set_fragment(None);
    }
    Ok(url)
}

fn same_host(url: &Url, base: &Url) -> bool {
    url.host_str().map(str::to_ascii_lowercase) == base.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default()
}

fn match_environment<'a>(
    url: &Url,
    environments: &'a [KnownEnvironment],
    notices: &mut Vec<String>,
) -> Result<&'a KnownEnvironment, CurlError> {
    let host = url.host_str().unwrap_or_default();
    let on_host: Vec<&KnownEnvironment> = environments.iter().filter(|e| same_host(url, &e.api_base)).collect();
    if on_host.is_empty() {
        let mut known: Vec<String> = environments
            .iter()
            .filter_map(|e| {
                e.api_base.host_str().map(|h| match e.api_base.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_owned(),
                })
            })
            .collect();
        known.dedup();
        return fail(format!(
            "{host} is not the host of a configured environment, so the console will not send there (configured: {})",
            known.join(", ")
        ));
    }
    let under: Vec<&KnownEnvironment> = on_host
        .into_iter()
        .filter(|e| {
            let base = e.api_base.path();
            url.path().starts_with(base) || url.path() == base.trim_end_matches('/')
        })
        .collect();
    let Some(first) = under.first() else {
        return fail(format!(
            "{} is on {host} but not under an environment's API base ({}): only the API can be reached",
            url.path(),
            environments
                .iter()
                .filter(|e| same_host(url, &e.api_base))
                .map(|e| e.api_base.path())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    if under.len() > 1 {
        let others: Vec<&str> = under[1..].iter().map(|e| e.id.as_str()).collect();
        notices.push(format!(
            "{host} is the host of several environments: picked {} (the first, safest one); also {}",
            first.id,
            others.join(", ")
        ));
    }
    Ok(first)
}

/// A catalog operation with the values of its path placeholders.
type Matched<'a> = (&'a Endpoint, Vec<(String, String)>);

/// The catalog operation with this method whose template matches the path, preferring the one
/// with the most literal segments; returns it with the placeholder values (decoded).
fn match_endpoint<'a>(method: &str, path: &str, endpoints: &'a [Endpoint]) -> Option<Matched<'a>> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(Matched<'a>, usize)> = None;
    for endpoint in endpoints.iter().filter(|e| e.method.eq_ignore_ascii_case(method)) {
        let template: Vec<&str> = endpoint.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let mut literals = 0;
        let fits = template.iter().zip(&segments).all(|(t, s)| {
            let decoded = percent_decode_str(s).decode_utf8_lossy();
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) if !s.is_empty() => {
                    params.push((name.to_owned(), decoded.into_owned()));
                    true
                }
                Some(_) => false,
                None => {
                    literals += 1;
                    *t == decoded
                }
            }
        });
        if fits && best.as_ref().is_none_or(|(_, n)| literals > *n) {
            best = Some(((endpoint, params), literals));
        }
    }
    best.map(|(matched, _)| matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(id: &str, method: &str, path: &str) -> Endpoint {
        Endpoint {
            id: id.into(),
            method: method.into(),
            path: path.into(),
            summary: String::new(),
            description: String::new(),
            tag: String::new(),
            parameters: vec![],
            body_example: None,
            body_schema: None,
            needs_token: true,
            writes: method != "GET",
            source: String::new(),
            confidence: String::new(),
            origin: "test".into(),
            also_in: vec![],
        }
    }

    fn catalog() -> Vec<Endpoint> {
        vec![
            endpoint("listCharges", "GET", "/bank/wallet/charges/"),
            endpoint("createCharge", "POST", "/bank/wallet/charge/"),
            endpoint("getChargeByPath", "GET", "/bank/wallet/charge/{charge_uuid}/"),
            endpoint("getChargeRefunds", "GET", "/bank/wallet/charge/refunds/"),
            endpoint("getPayout", "GET", "/bank/wallet/payout/{payout_uuid}/{wallet_uuid}/"),
        ]
    }

    fn environments() -> Vec<KnownEnvironment> {
        let env = |id: &str, base: &str| KnownEnvironment { id: id.into(), api_base: Url::parse(base).unwrap() };
        vec![
            env("sandbox", "https://sandbox.api.a55.tech/api/v1/"),
            env("production", "https://core-manager.a55.tech/api/v1/"),
            env("local", "http://127.0.0.1:3901/api/v1/"),
        ]
    }

    fn run(command: &str) -> Result<CurlImport, CurlError> {
        import(command, &environments(), &catalog())
    }

    #[test]
    fn words_follow_shell_quoting() {
        let words = split_words(r#"curl 'a b' "c \"d\" \$e" f\ g $'h\'i\nj' "k'l" m"n"o"#).unwrap();
        assert_eq!(words, vec!["curl", "a b", "c \"d\" $e", "f g", "h'i\nj", "k'l", "mno"]);
        assert_eq!(split_words("curl \\\n  -X POST \\\r\n x").unwrap(), vec!["curl", "-X", "POST", "x"]);
        assert_eq!(split_words("curl ^\n -v").unwrap(), vec!["curl", "-v"]);
        assert_eq!(split_words("curl '' x").unwrap(), vec!["curl", "", "x"]);
        assert_eq!(split_words(r"curl $'\x41\u00e9'").unwrap(), vec!["curl", "Aé"]);
        assert_eq!(split_words("curl 'open").unwrap_err().0, "a ' quote is not closed");
        assert_eq!(split_words("curl \"open").unwrap_err().0, "a \" quote is not closed");
    }

    #[test]
    fn a_get_with_a_query_matches_the_endpoint_and_fills_query_values() {
        let import = run(
            "curl 'https://core-manager.a55.tech/api/v1/bank/wallet/charges/?wallet_uuid=w-1&limit=5&status=paid%20ok'",
        )
        .unwrap();
        let r = import.request;
        assert_eq!(r.environment, "production");
        assert_eq!(r.method, "GET");
        assert_eq!(r.endpoint_id.as_deref(), Some("listCharges"));
        assert_eq!(r.path, "/bank/wallet/charges/");
        assert_eq!(
            r.query,
            vec![
                ("wallet_uuid".into(), "w-1".into()),
                ("limit".into(), "5".into()),
                ("status".into(), "paid ok".into())
            ]
        );
        assert_eq!(r.body, None);
        assert!(import.notices.is_empty(), "{:?}", import.notices);
    }

    #[test]
    fn a_multi_line_post_with_headers_and_data_raw_is_imported_and_authorization_dropped() {
        let command = r#"curl -X POST \
  'https://sandbox.api.a55.tech/api/v1/bank/wallet/charge/' \
  -H 'Authorization: Bearer eyJraWQiOiJLTzZ.partner.token' \
  -H "Content-Type: application/json" \
  -H 'Idempotency-Key: 7d5c6b0e-1111-4222-8333-944445555666' \
  --compressed \
  --data-raw '{"wallet_uuid": "w-1", "value": 10.5, "description": "it'\''s"}'"#;
        let import = run(command).unwrap();
        let r = &import.request;
        assert_eq!(r.environment, "sandbox");
        assert_eq!(r.method, "POST");
        assert_eq!(r.endpoint_id.as_deref(), Some("createCharge"));
        assert_eq!(
            r.headers,
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("Idempotency-Key".into(), "7d5c6b0e-1111-4222-8333-944445555666".into())
            ]
        );
        assert_eq!(r.body.as_deref(), Some(r#"{"wallet_uuid": "w-1", "value": 10.5, "description": "it's"}"#));
        assert_eq!(
            import.notices,
            vec!["dropped the Authorization header: the console adds the environment's own token"]
        );
        let text = serde_json::to_string(&import).unwrap();
        assert!(!text.contains("eyJ"), "the partner's token must not survive the import: {text}");
    }

    #[test]
    fn data_options_method_defaults_and_joining_follow_curl() {
        let r = run("curl https://sandbox.api.a55.tech/api/v1/bank/wallet/charge/ -d a=1 --data b=2 --data-binary c=3 -H 'Content-Type: text/plain'")
            .unwrap()
            .request;
        assert_eq!(r.method, "POST", "data without -X means POST");
        assert_eq!(r.body.as_deref(), Some("a=1&b=2&c=3"));
        let r = run("curl --url https://sandbox.api.a55.tech/api/v1/bank/wallet/charges/ -G -d wallet_uuid=w-2 --data-urlencode 'q=a b&c'")
            .unwrap()
            .request;
        assert_eq!(r.method, "GET");
        assert_eq!(r.body, None);
        assert_eq!(r.query, vec![("wallet_uuid".into(), "w-2".into()), ("q".into(), "a b&c".into())]);
        let r =
            run("curl -XPUT -sSL https://sandbox.api.a55.tech/api/v1/bank/wallet/charge/ --json '{\"a\":1}'").unwrap();
        assert_eq!(r.request.method, "PUT");
        assert!(r.request.headers.contains(&("Content-Type".into(), "application/json".into())));
        assert!(r.notices.iter().any(|n| n.contains("never follows redirects")));
        let r = run("curl https://sandbox.api.a55.tech/api/v1/bank/wallet/charge/ -d '{\"a\":1}'").unwrap();
        assert!(r.request.headers.contains(&("Content-Type".into(), "application/x-www-form-urlencoded".into())));
        assert!(r.notices.iter().any(|n| n.contains("x-www-form-urlencoded")));
    }

    #[test]
    fn basic_credentials_cookies_and_url_credentials_are_dropped_and_mentioned() {
        let import = run("curl -u partner:s3cret -b 'session=abc' https://user:pw@sandbox.api.a55.tech/api/v1/bank/wallet/charges/ -H 'Cookie: a=b'")
            .unwrap();
        let text = serde_json::to_string(&import).unwrap();
        for secret in ["s3cret", "session=abc", ":pw@", "a=b"] {
            assert!(!text.contains(secret), "{secret} survived: {text}");
        }
        assert_eq!(import.notices.len(), 4, "{:?}", import.notices);
        assert!(import.notices[0].starts_with("dropped the credentials given with -u"));
    }

    #[test]
    fn path_templates_match_with_decoded_placeholder_values_and_literals_win() {
        let r = run("curl https://sandbox.api.a55.tech/api/v1/bank/wallet/payout/p%201/w-9/").unwrap().request;
        assert_eq!(r.endpoint_id.as_deref(), Some("getPayout"));
        assert_eq!(r.path_params, vec![("payout_uuid".into(), "p 1".into()), ("wallet_uuid".into(), "w-9".into())]);
        let r = run("curl https://sandbox.api.a55.tech/api/v1/bank/wallet/charge/refunds/").unwrap().request;
        assert_eq!(r.endpoint_id.as_deref(), Some("getChargeRefunds"), "the literal segment beats the placeholder");
    }

    #[test]
    fn an_unknown_path_opens_as_a_raw_request_with_a_notice() {
        let import = run("curl -X DELETE https://sandbox.api.a55.tech/api/v1/bank/wallet/charges").unwrap();
        assert_eq!(import.request.endpoint_id, None);
        assert_eq!(import.request.path, "/bank/wallet/charges");
        assert_eq!(
            import.notices,
            vec!["no catalog operation matches DELETE /bank/wallet/charges: it opens as a raw request"]
        );
    }

    #[test]
    fn unknown_hosts_and_paths_outside_the_base_are_refused() {
        let error = run("curl https://evil.example.com/api/v1/wallets").unwrap_err().0;
        assert!(error.starts_with("evil.example.com is not the host of a configured environment"), "{error}");
        assert!(error.contains("core-manager.a55.tech"), "{error}");
        let error = run("curl http://127.0.0.1:9999/api/v1/wallets").unwrap_err().0;
        assert!(error.contains("not the host of a configured environment"), "another port is another host: {error}");
        let error = run("curl https://core-manager.a55.tech/admin/").unwrap_err().0;
        assert!(error.contains("not under an environment's API base"), "{error}");
    }

    #[test]
    fn several_environments_on_one_host_pick_the_first_and_say_so() {
        let mut envs = environments();
        envs.insert(
            2,
            KnownEnvironment {
                id: "sandbox-2".into(),
                api_base: Url::parse("https://sandbox.api.a55.tech/api/v1/").unwrap(),
            },
        );
        let import = import("curl https://sandbox.api.a55.tech/api/v1/wallets", &envs, &catalog()).unwrap();
        assert_eq!(import.request.environment, "sandbox");
        assert!(import.notices[0].contains("several environments"), "{:?}", import.notices);
    }

    #[test]
    fn unsupported_input_gets_an_error_saying_what_to_do() {
        let cases = [
            ("wget https://x", "this is not a curl command"),
            ("curl -X POST", "the command has no URL"),
            ("curl https://sandbox.api.a55.tech/api/v1/a https://sandbox.api.a55.tech/api/v1/b", "more than one URL"),
            ("curl -d @body.json https://sandbox.api.a55.tech/api/v1/a", "reads a file"),
            ("curl -F file=@x https://sandbox.api.a55.tech/api/v1/a", "multipart form"),
            ("curl --frobnicate https://sandbox.api.a55.tech/api/v1/a", "--frobnicate is not supported"),
            ("curl -X TRACE https://sandbox.api.a55.tech/api/v1/a", "cannot be sent"),
            ("curl -H", "needs a value"),
        ];
        for (command, expected) in cases {
            let error = run(command).unwrap_err().0;
            assert!(error.contains(expected), "{command}: {error}");
        }
    }

    #[test]
    fn headers_the_console_controls_are_dropped_with_a_notice() {
        let import = run("curl https://sandbox.api.a55.tech/api/v1/bank/wallet/charges/ -H 'X-Forwarded-For: 1.2.3.4' -H 'Accept-Encoding: gzip' -H 'X-Partner: p1' -A 'partner-app/1.0'")
            .unwrap();
        assert_eq!(
            import.request.headers,
            vec![("X-Partner".into(), "p1".into()), ("User-Agent".into(), "partner-app/1.0".into())]
        );
        assert_eq!(import.notices.len(), 1, "{:?}", import.notices);
        assert!(import.notices[0].contains("X-Forwarded-For"));
    }
}
