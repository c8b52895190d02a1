use serde_json::json;

use super::*;
use crate::wire::*;

/// What serde writes, `from_json` reads back as the same value: the two derives agree on `T`'s JSON.
fn reads_back<T>(value: T)
where
    T: serde::Serialize + serde_lite::Deserialize + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_vec(&value).unwrap();
    let read: T = from_json(&text).unwrap_or_else(|error| {
        panic!("{} did not read back: {error}\n{}", std::any::type_name::<T>(), String::from_utf8_lossy(&text))
    });
    assert_eq!(read, value);
}

/// Every variant of a field-less enum reads back (renamed variants included). The `match` stops the
/// build when a variant is added and not listed here.
macro_rules! every_variant {
    ($ty:ident: $($variant:ident),+ $(,)?) => {{
        let _listed = |value: $ty| match value {
            $($ty::$variant)|+ => (),
        };
        $(reads_back($ty::$variant);)+
    }};
}

fn request() -> ExecuteRequest {
    ExecuteRequest {
        environment: "sandbox".into(),
        method: "POST".into(),
        path: "/api/v1/bank/wallet/{wallet_uuid}/charge".into(),
        path_params: vec![("wallet_uuid".into(), "w-1".into())],
        query: vec![("page".into(), "2".into())],
        headers: vec![("x-trace".into(), "é ✓ \"quoted\"".into())],
        body: Some("{\"value\": 10.5}".into()),
        endpoint_id: Some("POST /api/v1/bank/wallet/{wallet_uuid}/charge".into()),
        confirm: Some("sandbox".into()),
    }
}

fn token() -> TokenView {
    TokenView {
        environment: "sandbox".into(),
        state: TokenState::Fresh,
        obtained_at_ms: Some(1_764_000_000_000),
        expires_at_ms: Some(1_764_000_003_600),
        seconds_left: Some(3_599.5),
        lifetime_secs: Some(3_600),
        refresh_in_secs: Some(-1.25),
        fingerprint: Some("a1b2".into()),
        claims: Some(JsonDocument(
            json!({"sub": "client", "scope": ["a", "b"], "exp": 1_764_003_600_u64, "n": -3, "f": 0.5, "ok": true, "none": null}),
        )),
        last_error: Some("earlier failure".into()),
    }
}

fn response() -> ExecuteResponse {
    ExecuteResponse {
        status: 201,
        status_text: "Created".into(),
        method: "POST".into(),
        url: "https://sandbox.example/api/v1/x".into(),
        duration_ms: 12.5,
        ttfb_ms: 3.25,
        size_bytes: u64::MAX,
        content_type: Some("application/json".into()),
        headers: vec![("content-type".into(), "application/json".into())],
        body: "{\"id\":1}".into(),
        truncated: true,
        token_fingerprint: Some("a1b2".into()),
        upstream_request_id: Some("req-1".into()),
        token: Some(token()),
        hint: Some("token was refreshed, send again".into()),
        retried: true,
        body_id: Some("b-1".into()),
        body_inline: true,
        kept_bytes: 8,
        wire_bytes: 7,
        content_encoding: Some("gzip".into()),
        max_response_bytes: 1 << 20,
        sent_headers: vec![("accept".into(), "*/*".into())],
        sent_body: Some("{}".into()),
        masking: MaskingReport {
            secrets: vec![MaskedSecret { location: "$['client_secret']".into(), reveal_id: Some("r-1".into()) }],
            secret_count: 1,
            personal: vec![("email".into(), 2)],
            demo: true,
        },
    }
}

fn counts() -> DiffCounts {
    DiffCounts { added: 1, removed: 2, changed: 3, type_changed: 4 }
}

fn change(kind: ChangeKind) -> DiffChange {
    DiffChange {
        kind,
        path: "$.a".into(),
        left: Some("1".into()),
        right: None,
        left_type: Some("number".into()),
        right_type: None,
    }
}

fn options() -> DiffOptions {
    DiffOptions { shape_only: true, array_key: Some("id".into()), ignore: vec!["$.at".into()] }
}

fn compare_result() -> CompareResult {
    CompareResult {
        left: CompareSide { environment: "sandbox".into(), response: Some(response()), error: None },
        right: CompareSide {
            environment: "production".into(),
            response: None,
            error: Some(ConsoleError::UpstreamTimeout("no answer in 30 s".into())),
        },
        options: options(),
        body: BodyDiff {
            mode: BodyDiffMode::Json,
            counts: counts(),
            changes: vec![change(ChangeKind::TypeChanged), change(ChangeKind::Removed)],
            ignored: 2,
            rows: vec![DiffRow {
                depth: 3,
                label: "a".into(),
                left: Some("1".into()),
                right: Some("2".into()),
                kind: RowKind::Changed,
                path: "$.a".into(),
            }],
            rows_truncated: true,
            notices: vec!["cut".into()],
            elapsed_ms: 0.75,
        },
        headers: vec![HeaderChange {
            name: "x-a".into(),
            kind: ChangeKind::Added,
            left: None,
            right: Some("1".into()),
            expected: true,
        }],
        exports: Some(CompareExports { json_id: "j".into(), markdown_id: "m".into() }),
        history_id: Some(-7),
    }
}

fn compare_request() -> CompareRequest {
    CompareRequest { left: request(), right: request(), options: options() }
}

fn suite() -> ParitySuite {
    ParitySuite {
        name: "nightly".into(),
        source: SuiteSource::Saved,
        compares: vec![ParityCompare { name: "wallets".into(), request: compare_request() }],
        schedule: Some(SuiteSchedule { interval_secs: 3_600, jitter_secs: 60 }),
    }
}

fn spec_comparison(state: SpecState) -> SpecComparison {
    SpecComparison {
        left: "sandbox".into(),
        right: "production".into(),
        state,
        changes: vec![SpecChange {
            key: "k".into(),
            kind: SpecChangeKind::FieldRemoved,
            operation: "GET /x".into(),
            pointer: "/a".into(),
            before: Some("string".into()),
            after: None,
            new: true,
        }],
    }
}

#[test]
fn every_answer_of_the_console_page_reads_back_what_the_server_wrote() {
    reads_back(response());
    reads_back(Catalog {
        endpoints: vec![Endpoint {
            id: "GET /x".into(),
            method: "GET".into(),
            path: "/x".into(),
            summary: "s".into(),
            description: "d".into(),
            tag: "t".into(),
            parameters: vec![Parameter {
                name: "page".into(),
                location: ParamLocation::Query,
                required: true,
                description: "d".into(),
                schema_type: "integer".into(),
                enum_values: vec!["1".into()],
                example: Some("1".into()),
                format: Some("int32".into()),
            }],
            body_example: Some("{}".into()),
            body_schema: Some(JsonDocument(
                json!({"type": "object", "properties": {"b": {"type": "string"}, "a": {}}}),
            )),
            needs_token: true,
            writes: false,
            source: "spec".into(),
            confidence: "high".into(),
            origin: "a55".into(),
            also_in: vec!["sandbox".into()],
        }],
        sources: vec![CatalogSource {
            name: "spec".into(),
            loaded: true,
            detail: "ok".into(),
            environment: Some("sandbox".into()),
        }],
    });
    reads_back(vec![EnvironmentView {
        id: "production".into(),
        label: "Production".into(),
        kind: EnvironmentKind::Production,
        colour: "#c00".into(),
        api_base: "https://core-manager.a55.tech/api/v1".into(),
        guard: GuardView { methods: vec!["GET".into()], confirm_writes: true, read_only: false },
    }]);
    let entry = HistoryEntry {
        id: 9,
        at_ms: 1,
        environment: "sandbox".into(),
        method: "GET".into(),
        path: "/x".into(),
        endpoint_id: None,
        status: Some(200),
        duration_ms: Some(1.5),
        error: Some("e".into()),
        compare: Some(CompareMark { right_environment: "production".into(), right_status: None, counts: counts() }),
    };
    reads_back(vec![entry.clone()]);
    reads_back(HistoryDetail {
        entry,
        request: request(),
        response: Some(response()),
        compare: Some(compare_result()),
    });
    reads_back(vec![SavedRequest {
        id: 1,
        name: "n".into(),
        collection: "c".into(),
        request: request(),
        created_by: "a".into(),
        updated_by: "b".into(),
        updated_at_ms: 2,
        can_change: true,
    }]);
    reads_back(Preferences {
        last_environment: Some("sandbox".into()),
        last_endpoint: None,
        theme: Some("dark".into()),
    });
    reads_back(CurlImport { request: request(), notices: vec!["dropped a header".into()] });
    reads_back(vec![Snippet { language: SnippetLanguage::JavaScript, code: "fetch()".into() }]);
    reads_back(JsonPathAnswer {
        total: 2,
        matches: vec![JsonPathMatch {
            path: "$['a'][0]".into(),
            steps: vec![PathStep::Name("a".into()), PathStep::Index(0)],
            value: "1".into(),
            value_truncated: false,
        }],
        elapsed_ms: 0.5,
    });
    reads_back(DemoView { enabled: true, forced: false });
    reads_back(RevealedSecret { location: "$['client_secret']".into(), value: "shown".into() });
    reads_back(StaffView { name: "ana".into(), role: Role::Operator, local: true });
    reads_back(LoginOptions {
        provider: Some(ProviderSignIn { name: "Company".into(), logout_url: Some("https://id/logout".into()) }),
        password: true,
    });
    reads_back(token());
    reads_back(());
    reads_back(7_u64);
    reads_back(true);
}

#[test]
fn every_answer_of_the_other_pages_reads_back_what_the_server_wrote() {
    let outcomes = [
        TokenEventOutcome::Obtained { fingerprint: "f".into(), lifetime_secs: 3_600 },
        TokenEventOutcome::Failed { error: "invalid_client".into() },
        TokenEventOutcome::Adopted { fingerprint: "g".into(), lifetime_secs: 60 },
        TokenEventOutcome::Forgotten,
        TokenEventOutcome::Dropped,
    ];
    let events = outcomes
        .into_iter()
        .enumerate()
        .map(|(at, outcome)| TokenEvent {
            at_ms: at as i64,
            reason: TokenEventReason::Rotation,
            latency_ms: Some(2.5),
            outcome,
            // Written only when set: both the field's absence and its presence must read.
            replica: (at % 2 == 0).then(|| "replica-1".to_owned()),
        })
        .collect();
    reads_back(TokenDetails {
        token: token(),
        header: Some(JsonDocument(json!({"alg": "RS256", "kid": "k"}))),
        events,
        refresh_skew_secs: 60,
        effective_skew_secs: Some(30),
        retry_in_secs: Some(1.5),
        refreshing: true,
        token_url: "https://auth/oauth2/token".into(),
        client_id: "client".into(),
        client_auth: "basic".into(),
        scope: None,
        cache: TokenCache::FallingBack,
    });
    reads_back(compare_result());
    reads_back(CompareSettings { endpoint: "GET /x".into(), options: options(), remembered: true });
    reads_back(vec![AuditRecord {
        id: 1,
        at_ms: 2,
        actor: "ana".into(),
        event: "execute".into(),
        environment: Some("sandbox".into()),
        method: Some("GET".into()),
        path_template: Some("/x".into()),
        path: Some("/x".into()),
        status: Some(200),
        duration_ms: Some(3),
        outcome: "ok".into(),
        detail: None,
        address: Some("127.0.0.1".into()),
        session: Some("s".into()),
    }]);
    reads_back(suite());
    reads_back(Some(suite()));
    reads_back(None::<ParitySuite>);
    let view = ParitySuiteView {
        suite: suite(),
        last_run: Some(ParityRunSummary {
            id: 1,
            started_at_ms: 2,
            started_by: "scheduler".into(),
            duration_ms: 3,
            new_shape: 4,
            new_value: 5,
            new_spec: 6,
            known: 7,
            failed_sides: 8,
        }),
        baseline: Some(BaselineView { run_id: 1, accepted_by: "ana".into(), accepted_at_ms: 2, items: 3 }),
        running: true,
    };
    reads_back(view.clone());
    reads_back(vec![view]);
    reads_back(ParityRun {
        id: 1,
        suite: "nightly".into(),
        started_by: "ana".into(),
        started_at_ms: 2,
        duration_ms: 3,
        compares: vec![ParityCompareOutcome {
            name: "wallets".into(),
            method: "GET".into(),
            path: "/x".into(),
            left_environment: "sandbox".into(),
            right_environment: "production".into(),
            left_status: Some(200),
            right_status: None,
            left_error: None,
            right_error: Some("timeout".into()),
            counts: counts(),
            headers: vec![],
            changes: vec![change(ChangeKind::Changed)],
            changes_truncated: false,
            duration_ms: 4,
        }],
        drift: vec![DriftItem {
            compare: "wallets".into(),
            kind: DriftKind::Header,
            path: "x-a".into(),
            occurrences: 2,
            left: None,
            right: Some("1".into()),
            new: true,
        }],
        requests: vec![EnvironmentRequests { environment: "sandbox".into(), requests: 3 }],
        baseline_at_ms: Some(5),
        spec: vec![spec_comparison(SpecState::Compared)],
    });
    reads_back(ParityBadge { suites: 2, new_drift: 1 });
    reads_back(SpecDriftView {
        left: "sandbox".into(),
        right: "production".into(),
        comparisons: vec![
            spec_comparison(SpecState::Compared),
            spec_comparison(SpecState::NoLiveSpec { environments: vec!["production".into()] }),
            spec_comparison(SpecState::Unavailable { reason: "404".into() }),
        ],
    });
}

#[test]
fn every_variant_of_every_enum_reads_back_under_its_wire_name() {
    every_variant!(EnvironmentKind: Simulator, Sandbox, Production);
    every_variant!(ParamLocation: Path, Query, Header);
    every_variant!(TokenState: Empty, Fresh, Stale, Expired);
    every_variant!(TokenEventReason: Cold, Stale, Expired, Unauthorized, Manual, Rotation);
    every_variant!(TokenCache: PerReplica, Shared, FallingBack);
    every_variant!(Role: Viewer, Operator, Admin);
    every_variant!(SnippetLanguage: Curl, Python, JavaScript, Rust);
    every_variant!(ChangeKind: TypeChanged, Removed, Added, Changed);
    every_variant!(RowKind: Same, Ignored, Collapsed, Open, TypeChanged, Removed, Added, Changed);
    every_variant!(BodyDiffMode: Json, Shape, Text, None);
    every_variant!(SuiteSource: Config, Saved);
    every_variant!(DriftKind: Status, TypeChanged, Removed, Added, Header, Changed);
    every_variant!(
        SpecChangeKind: OperationRemoved,
        ResponseRemoved,
        ParameterRequired,
        TypeChanged,
        EnumValueRemoved,
        FieldRemoved,
        FieldRequired,
        ParameterMoved,
        ParameterRemoved,
        OperationAdded,
        ResponseAdded,
        ParameterAdded,
        ParameterOptional,
        FieldAdded,
        FieldOptional,
        EnumValueAdded,
    );
    // The wire names are snake_case, as scripts reading the `/api` answers know them.
    assert_eq!(serde_json::to_string(&SpecChangeKind::EnumValueAdded).unwrap(), "\"enum_value_added\"");
    assert_eq!(serde_json::to_string(&SnippetLanguage::JavaScript).unwrap(), "\"java_script\"");
}

#[test]
fn every_error_reads_back_as_the_same_error() {
    let errors = [
        ConsoleError::UnknownEnvironment("x".into()),
        ConsoleError::InvalidRequest("x".into()),
        ConsoleError::NotFound("x".into()),
        ConsoleError::TokenUnavailable("x".into()),
        ConsoleError::UpstreamUnavailable("x".into()),
        ConsoleError::UpstreamTimeout("x".into()),
        ConsoleError::Internal("x".into()),
        ConsoleError::Transport("x".into()),
        ConsoleError::Unauthenticated("x".into()),
        ConsoleError::Forbidden("x".into()),
        ConsoleError::ConfirmationRequired("x".into()),
        ConsoleError::RateLimited("x".into()),
        ConsoleError::MisdirectedRequest("x".into()),
        ConsoleError::MethodNotAllowed("x".into()),
        ConsoleError::Unavailable("x".into()),
        ConsoleError::Cancelled("x".into()),
        ConsoleError::Conflict("x".into()),
    ];
    // Stops the build when a variant is added and not listed above.
    let _listed = |error: ConsoleError| match error {
        ConsoleError::UnknownEnvironment(_)
        | ConsoleError::InvalidRequest(_)
        | ConsoleError::NotFound(_)
        | ConsoleError::TokenUnavailable(_)
        | ConsoleError::UpstreamUnavailable(_)
        | ConsoleError::UpstreamTimeout(_)
        | ConsoleError::Internal(_)
        | ConsoleError::Transport(_)
        | ConsoleError::Unauthenticated(_)
        | ConsoleError::Forbidden(_)
        | ConsoleError::ConfirmationRequired(_)
        | ConsoleError::RateLimited(_)
        | ConsoleError::MisdirectedRequest(_)
        | ConsoleError::MethodNotAllowed(_)
        | ConsoleError::Unavailable(_)
        | ConsoleError::Cancelled(_)
        | ConsoleError::Conflict(_) => (),
    };
    for error in errors {
        reads_back(error);
    }
}

#[test]
fn a_resource_value_in_the_page_reads_back_as_its_ok_or_its_error() {
    use codee::{Decoder, Encoder};
    let ok: Result<DemoView, ConsoleError> = Ok(DemoView { enabled: true, forced: true });
    let text = <LiteCodec as Encoder<_>>::encode(&ok).unwrap();
    assert_eq!(text, r#"{"Ok":{"enabled":true,"forced":true}}"#);
    assert_eq!(<LiteCodec as Decoder<Result<DemoView, ConsoleError>>>::decode(&text).unwrap(), ok);

    let err: Result<DemoView, ConsoleError> = Err(ConsoleError::Forbidden("viewers cannot".into()));
    let text = <LiteCodec as Encoder<_>>::encode(&err).unwrap();
    assert_eq!(<LiteCodec as Decoder<Result<DemoView, ConsoleError>>>::decode(&text).unwrap(), err);

    let neither = <LiteCodec as Decoder<Result<DemoView, ConsoleError>>>::decode(r#"{"Maybe":1}"#);
    assert_eq!(neither.unwrap_err(), "a resource's value is neither Ok nor Err");
}

#[test]
fn an_answer_that_does_not_fit_its_type_names_the_field() {
    let error = from_json::<DemoView>(br#"{"enabled": "yes", "forced": false}"#).unwrap_err();
    assert!(error.contains("enabled"), "{error}");
    let error = from_json::<DemoView>(br#"{"enabled": true}"#).unwrap_err();
    assert!(error.contains("forced"), "{error}");
    let error = from_json::<DemoView>(b"{not json").unwrap_err();
    assert!(error.contains("line 1"), "{error}");
}

#[test]
fn a_json_document_keeps_its_keys_in_the_order_they_were_written() {
    let text = br#"{"z": 1, "a": {"y": [1, -2, 2.5, null, "s", false], "b": {}}}"#;
    let document: JsonDocument = from_json(text).unwrap();
    let written: serde_json::Value = serde_json::from_slice(text).unwrap();
    assert_eq!(document.0, written);
    assert_eq!(serde_json::to_string(&document).unwrap(), r#"{"z":1,"a":{"y":[1,-2,2.5,null,"s",false],"b":{}}}"#);
}

/// The app's sources, for the checks on conventions the compiler cannot see.
fn sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, found: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut found = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    found
}

/// A server function without `output = LiteJson`, or a resource made with `Resource::new`, still
/// compiles and works (every wire type also derives serde's `Deserialize`), but brings serde's
/// per-type decoder back into the WASM: only this test notices.
#[test]
fn every_server_function_and_resource_is_read_with_the_lighter_decoder() {
    let mut server_functions = 0;
    let mut offenders = Vec::new();
    for (path, text) in sources() {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            let place = format!("{}:{}", path.display(), number + 1);
            // The function's attribute, not an argument's (`#[server(default)] name: T,`).
            if line.starts_with("#[server(") && line.ends_with(")]") {
                server_functions += 1;
                if !line.contains("output = crate::codec::LiteJson") || !line.contains("client = CsrfClient") {
                    offenders.push(format!("{place}: {line}"));
                }
            }
            // Built from pieces so this test's own source is not a match.
            if line.contains(concat!("Resource::", "new(")) && !line.contains(concat!("Local", "Resource::")) {
                offenders.push(format!("{place}: {line}"));
            }
        }
    }
    assert!(server_functions >= 40, "found only {server_functions} server functions: is the source walk broken?");
    assert!(
        offenders.is_empty(),
        "use `output = crate::codec::LiteJson, client = CsrfClient` and `codec::load`:\n{}",
        offenders.join("\n")
    );
}
