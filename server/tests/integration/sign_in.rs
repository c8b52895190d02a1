#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed step is a failed test")]
//! Staff sign-in through an independent OpenID Connect provider (npm `oauth2-mock-server`, see
//! `end2end/oidc-mock.mjs`) over real HTTP: the code flow with PKCE, state and nonce; roles from
//! groups; every ID token check refused and audited; key rotation; break-glass local accounts;
//! RP-initiated logout; and start-up naming an issuer it cannot discover.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::wire::{ExecuteRequest, LoginOptions, StaffView};
use console_server::auth::password;
use console_server::clock::SystemClock;
use console_server::config::{self, RawConfig, RawOidc, RawUser};
use serde_json::{json, Value};

use crate::support::*;

const SESSION: &str = "__Host-a55-session";
const BINDING: &str = "__Host-a55-sign-in";
const CLIENT_ID: &str = "a55-console";
const PASSWORD: &str = "correct horse battery staple";

/// The independent provider, or `None` (a failure under `A55_REQUIRE_OAUTH2_MOCK`) when node or
/// the package is missing.
struct Idp {
    child: std::process::Child,
    issuer: String,
    control: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn idp(secret: &str) -> Option<Idp> {
    use std::io::BufRead as _;
    let end2end = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    if !end2end.join("node_modules/oauth2-mock-server/package.json").is_file() {
        let message = "end2end/node_modules/oauth2-mock-server is not installed: run `make node-deps`";
        assert!(std::env::var_os("A55_REQUIRE_OAUTH2_MOCK").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return None;
    }
    let mut command = std::process::Command::new("node");
    command
        .arg(end2end.join("oidc-mock.mjs"))
        .current_dir(&end2end)
        .env("MOCK_CLIENT_ID", CLIENT_ID)
        .env("MOCK_CLIENT_SECRET", secret)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    // In canary mode every token the provider issues is recorded: none may leak either.
    if let Some(file) = canary::tokens_file() {
        command.env("MOCK_TOKENS_FILE", file);
    }
    let mut child = command.spawn().expect("node runs");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("oidc-mock.mjs printed {line:?}: {e}"));
    let text = |key: &str| started[key].as_str().unwrap().to_owned();
    Some(Idp { issuer: text("issuer"), control: text("control_url"), child })
}

impl Idp {
    async fn person(&self, claims: Value, tamper: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/person", self.control))
            .json(&json!({ "claims": claims, "tamper": tamper }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }

    async fn stats(&self) -> Value {
        reqwest::get(format!("{}/stats", self.control)).await.unwrap().json().await.unwrap()
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn raw_config(idp: &Idp, local_accounts: bool) -> RawConfig {
    let mut raw = RawConfig::default();
    raw.auth.users = vec![RawUser {
        name: "breakglass".into(),
        password_hash: password::hash(PASSWORD).unwrap(),
        role: "admin".into(),
        environments: BTreeMap::new(),
    }];
    raw.auth.local_accounts = local_accounts;
    raw.auth.oidc = Some(RawOidc {
        issuer: Some(idp.issuer.clone()),
        display_name: Some("Test IdP".into()),
        client_id: Some(CLIENT_ID.into()),
        client_secret_env: Some("OIDC_SECRET".into()),
        roles: BTreeMap::from([
            ("a55-console-viewers".into(), "viewer".into()),
            ("payments-ops".into(), "operator".into()),
            ("a55-console-admins".into(), "admin".into()),
        ]),
        environments: BTreeMap::from([(
            "simulator-production".into(),
            BTreeMap::from([("payments-ops".into(), "none".into())]),
        )]),
        ..RawOidc::default()
    });
    raw
}

/// A console signing staff in through `idp`, with one break-glass local account.
async fn console(idp: &Idp, secret: &str, local_accounts: bool) -> TestConsole {
    canary::record_secret(CLIENT_ID, secret);
    let vars = Vars([("OIDC_SECRET".to_owned(), secret.to_owned())].into());
    TestConsole::start(raw_config(idp, local_accounts), vars, Arc::new(SystemClock)).await
}

/// What the browser does: start at the console, follow the provider's redirect, come back.
struct Attempt {
    authorize: url::Url,
    binding: String,
    callback: String,
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_named(response, name)
}

fn value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
}

async fn begin(console: &TestConsole, next: &str) -> Attempt {
    let http = no_redirects();
    let start = http.get(format!("{}/auth/oidc/start?next={next}", console.base)).send().await.unwrap();
    assert!(start.status().is_redirection(), "{}", start.status());
    let binding = cookie(&start, BINDING).expect("start binds the sign-in to this browser");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=300"] {
        assert!(binding.contains(attribute), "{binding}");
    }
    let authorize = url::Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    let at_idp = http.get(authorize.clone()).send().await.unwrap();
    assert!(at_idp.status().is_redirection());
    let back = url::Url::parse(at_idp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.path(), "/auth/oidc/callback");
    let callback = format!("{}?{}", back.path(), back.query().unwrap());
    Attempt { authorize, binding: value(&binding), callback }
}

async fn finish(console: &TestConsole, callback: &str, binding: Option<&str>) -> reqwest::Response {
    let mut request = no_redirects().get(format!("{}{callback}", console.base));
    if let Some(binding) = binding {
        request = request.header("cookie", format!("{BINDING}={binding}"));
    }
    request.send().await.unwrap()
}

async fn whoami(console: &TestConsole, session: &str) -> reqwest::Response {
    console
        .http
        .post(format!("{}/api/whoami", console.base))
        .header("cookie", format!("{SESSION}={session}"))
        .send()
        .await
        .unwrap()
}

async fn audit(console: &TestConsole, event: &str) -> Vec<(String, String, Option<String>)> {
    audit_rows_of(console, event).await
}

fn refused_to(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(cookie(response, SESSION).is_none(), "a refused sign-in starts no session");
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_person_signs_in_through_the_identity_provider_with_pkce_and_gets_the_role_of_their_groups() {
    let secret = canary_secret();
    let Some(idp) = idp(&secret) else { return };
    let console = console(&idp, &secret, true).await;
    idp.person(json!({ "email": "Ana.Ops@Example.com", "groups": ["payments-ops", "unrelated"] }), "none").await;

    let attempt = begin(&console, "%2Fcompare%3Fleft%3Dsimulator").await;
    let query: BTreeMap<String, String> = attempt.authorize.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert!(query["nonce"].len() >= 22);
    assert!(query["state"].len() == 32 && query["state"].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(query["redirect_uri"], format!("http://{}/auth/oidc/callback", console.console.addr));
    assert!(query["scope"].split(' ').any(|s| s == "openid"), "{}", query["scope"]);
    assert!(!attempt.authorize.as_str().contains(&secret));

    let done = finish(&console, &attempt.callback, Some(&attempt.binding)).await;
    assert_eq!(done.status(), 200);
    let session = cookie(&done, SESSION).expect("signing in starts a session");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attribute), "{session}");
    }
    assert!(cookie(&done, BINDING).unwrap().contains("Max-Age=0"), "the binding is used once");
    let page = done.text().await.unwrap();
    // The same-site step that carries the Strict cookie, to where the person was going.
    assert!(page.contains("url=/compare?left=simulator"), "{page}");

    let me: StaffView = whoami(&console, &value(&session)).await.json().await.unwrap();
    assert_eq!((me.name.as_str(), me.role, me.local), ("ana.ops@example.com", app::wire::Role::Operator, false));
    // The per-environment override of the group: an operator, but no access to production.
    let run = |environment: &str| {
        let request = ExecuteRequest {
            environment: environment.into(),
            method: "GET".into(),
            path: "/bank/wallet/charges/".into(),
            ..ExecuteRequest::default()
        };
        console
            .http
            .post(format!("{}/api/execute", console.base))
            .header("cookie", format!("{SESSION}={}", value(&session)))
            .json(&json!({ "request": request }))
            .send()
    };
    assert_eq!(run("simulator").await.unwrap().status(), 200);
    assert_eq!(run("simulator-production").await.unwrap().status(), 404, "production is hidden from this group");

    // The same callback again (a replayed URL) is refused: the pending sign-in was used.
    let replay = finish(&console, &attempt.callback, Some(&attempt.binding)).await;
    assert_eq!(refused_to(&replay), "/login?sso=expired");
    assert_eq!(idp.stats().await["exchanges"], 1, "the replayed code never reached the provider");

    let logins = audit(&console, "login").await;
    assert_eq!(logins, vec![("ana.ops@example.com".into(), "ok".into(), Some("via Test IdP".into()))]);
    let failures = audit(&console, "login_failed").await;
    assert_eq!(failures.len(), 1);
    assert!(failures[0].2.as_deref().unwrap().contains("already used"), "{failures:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn every_failed_id_token_check_refuses_the_sign_in_and_the_audit_trail_says_why() {
    let secret = canary_secret();
    let Some(idp) = idp(&secret) else { return };
    let console = console(&idp, &secret, true).await;
    let viewer = json!({ "email": "vera@example.com", "groups": ["a55-console-viewers"] });
    let cases = [
        ("alg-none", "token", "no signature"),
        ("hs256", "token", "algorithm"),
        ("bad-signature", "token", "Crypto"),
        ("unknown-kid", "token", "key"),
        ("wrong-audience", "token", "audience"),
        ("wrong-issuer", "token", "issuer"),
        ("expired", "token", "expired"),
        ("future-iat", "token", "future"),
        ("wrong-nonce", "token", "nonce"),
        ("wrong-at-hash", "token", "at_hash"),
    ];
    for (tamper, code, reason) in cases {
        idp.person(viewer.clone(), tamper).await;
        let attempt = begin(&console, "%2F").await;
        let response = finish(&console, &attempt.callback, Some(&attempt.binding)).await;
        assert_eq!(refused_to(&response), format!("/login?sso={code}"), "{tamper}");
        let failures = audit(&console, "login_failed").await;
        let detail = failures.last().and_then(|f| f.2.clone()).unwrap_or_default();
        assert!(detail.to_lowercase().contains(&reason.to_lowercase()), "{tamper}: {detail}");
        assert!(!detail.contains(&secret));
    }
    // A good token whose groups give no role, and one without a usable name.
    idp.person(json!({ "email": "guest@example.com", "groups": ["visitors"] }), "none").await;
    let attempt = begin(&console, "%2F").await;
    assert_eq!(refused_to(&finish(&console, &attempt.callback, Some(&attempt.binding)).await), "/login?sso=role");
    let failures = audit(&console, "login_failed").await;
    assert_eq!(failures.last().unwrap().0, "guest@example.com");
    idp.person(json!({ "email": "bad name", "groups": ["a55-console-admins"] }), "none").await;
    let attempt = begin(&console, "%2F").await;
    assert_eq!(refused_to(&finish(&console, &attempt.callback, Some(&attempt.binding)).await), "/login?sso=name");
    // The provider's own refusal (a person who cancelled) is shown and audited too.
    let denied = finish(&console, "/auth/oidc/callback?error=access_denied&error_description=cancelled", None).await;
    assert_eq!(refused_to(&denied), "/login?sso=idp");
    assert!(audit(&console, "login").await.is_empty(), "nobody signed in");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_sign_in_is_finished_only_by_the_browser_that_started_it() {
    let secret = canary_secret();
    let Some(idp) = idp(&secret) else { return };
    let console = console(&idp, &secret, true).await;
    idp.person(json!({ "email": "ana@example.com", "groups": ["a55-console-admins"] }), "none").await;
    // An attacker starts a sign-in and sends the callback URL to a victim (login CSRF): the
    // victim's browser has no binding, or another one.
    let attempt = begin(&console, "%2F").await;
    assert_eq!(refused_to(&finish(&console, &attempt.callback, None).await), "/login?sso=expired");
    let other = begin(&console, "%2F").await;
    assert_eq!(refused_to(&finish(&console, &attempt.callback, Some(&other.binding)).await), "/login?sso=expired");
    // A made-up state is refused the same way.
    let forged = attempt.callback.replace("state=", "state=0").replace("&", "&x=");
    assert_eq!(refused_to(&finish(&console, &forged, Some(&attempt.binding)).await), "/login?sso=expired");
    assert_eq!(idp.stats().await["exchanges"], 0, "no code was exchanged for a sign-in that was not this browser's");
    // The other browser's own sign-in still works.
    let done = finish(&console, &other.callback, Some(&other.binding)).await;
    assert_eq!(done.status(), 200);
    console.console.shutdown().await;
}

#[tokio::test]
async fn roles_follow_the_groups_at_each_sign_in_so_a_person_removed_from_admins_loses_admin() {
    let secret = canary_secret();
    let Some(idp) = idp(&secret) else { return };
    let console = console(&idp, &secret, true).await;
    let sign_in = || async {
        let attempt = begin(&console, "%2F").await;
        let done = finish(&console, &attempt.callback, Some(&attempt.binding)).await;
        let session = value(&cookie(&done, SESSION).expect("signed in"));
        whoami(&console, &session).await.json::<StaffView>().await.unwrap()
    };
    idp.person(json!({ "email": "lea@example.com", "groups": ["a55-console-admins"] }), "none").await;
    assert_eq!(sign_in().await.role, app::wire::Role::Admin);
    idp.person(json!({ "email": "lea@example.com", "groups": ["a55-console-viewers"] }), "none").await;
    assert_eq!(sign_in().await.role, app::wire::Role::Viewer);
    console.console.shutdown().await;
}

#[tokio::test]
async fn keys_rotated_at_the_provider_are_fetched_again_and_the_sign_in_succeeds() {
    let secret = canary_secret();
    let Some(idp) = idp(&secret) else { return };
    let console = console(&idp, &secret, true).await;
    // The provider signs with a key it published after the console read its key set.
    idp.person(json!({ "email": "rui@example.com", "groups": ["a55-console-viewers"] }), "rotated-key").await;
    let attempt = begin(&console, "%2F").await;
    let done = finish(&console, &attempt.callback, Some(&attempt.binding)).await;
    assert_eq!(done.status(), 200, "{:?}", audit(&console, "login_failed").await);
    let session = value(&cookie(&done, SESSION).unwrap());
    let me: StaffView = whoami(&console, &session).await.json().await.unwrap();
    assert_eq!(me.name, "rui@example.com");
    console.console.shutdown().await;
}

#[tokio::test]
async fn local_accounts_are_break_glass_behind_the_provider_and_can_be_turned_off() {
    let secret = canary_secret();
    let Some(idp) = idp(&secret) else { return };
    let on = console(&idp, &secret, true).await;
    let options = |console: &TestConsole| {
        let url = format!("{}/api/login/options", console.base);
        let http = console.http.clone();
        async move { http.post(url).send().await.unwrap().json::<LoginOptions>().await.unwrap() }
    };
    let offered = options(&on).await;
    let provider = offered.provider.expect("the provider is offered");
    assert_eq!(provider.name, "Test IdP");
    assert!(offered.password);
    // RP-initiated logout: the provider publishes end_session_endpoint.
    let logout = url::Url::parse(provider.logout_url.as_deref().unwrap()).unwrap();
    assert!(logout.as_str().starts_with(&idp.issuer), "{logout}");
    let query: BTreeMap<String, String> = logout.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], format!("http://{}/login?signed_out=1", on.console.addr));
    // The login page as served, complete without any script: the provider first, then the form.
    let page = on.http.get(format!("{}/login?next=%2Fcompare", on.base)).send().await.unwrap().text().await.unwrap();
    let sso = page.find(r#"data-testid="sso-sign-in""#).expect("the provider's link");
    let form = page.find(r#"data-testid="login-form""#).expect("the password form");
    assert!(sso < form, "{page}");
    assert!(page.contains(r#"href="/auth/oidc/start?next=%2Fcompare""#), "{page}");
    let login = |console: &TestConsole, name: &str| {
        let request =
            console.http.post(format!("{}/api/login", console.base)).form(&[("name", name), ("password", PASSWORD)]);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(login(&on, "breakglass").await.status(), 200);
    // A name at the provider that a local account already has is refused.
    idp.person(json!({ "email": "breakglass", "groups": ["a55-console-admins"] }), "none").await;
    let attempt = begin(&on, "%2F").await;
    assert_eq!(refused_to(&finish(&on, &attempt.callback, Some(&attempt.binding)).await), "/login?sso=taken");
    on.console.shutdown().await;

    let off = console(&idp, &secret, false).await;
    assert!(!options(&off).await.password);
    let refused = login(&off, "breakglass").await;
    let status = refused.status();
    assert_eq!(status, 403, "{}", refused.text().await.unwrap());
    let text = refused.text().await.unwrap();
    assert!(text.contains("password sign-in is turned off: sign in with Test IdP"), "{text}");
    let page = off.http.get(format!("{}/login", off.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"data-testid="sso-sign-in""#) && !page.contains("login-form"), "{page}");
    // A form posted anyway (a page left open from before) is told why, though no form is shown.
    let posted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/login", off.base))
        .header("sec-fetch-site", "same-origin")
        .form(&[("name", "breakglass"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 403);
    assert!(set_cookie_named(&posted, "__Host-a55-session").is_none());
    let page = posted.text().await.unwrap();
    assert!(
        page.contains(
            r#"data-testid="login-error" class="login-error">password sign-in is turned off: sign in with Test IdP</p>"#
        ),
        "{page}"
    );
    off.console.shutdown().await;
}

#[tokio::test]
async fn start_up_names_the_issuer_it_cannot_discover() {
    let closed = crate::support::closed_port();
    let mut raw = RawConfig::default();
    raw.auth.oidc = Some(RawOidc {
        issuer: Some(format!("http://{closed}")),
        client_id: Some(CLIENT_ID.into()),
        client_secret_env: Some("OIDC_SECRET".into()),
        roles: BTreeMap::from([("staff".into(), "viewer".into())]),
        ..RawOidc::default()
    });
    raw.storage.database_path = Some(canary::database_path());
    let vars = Vars([("OIDC_SECRET".to_owned(), "s3cret-value".to_owned())].into());
    let config = config::validate(raw, &vars).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error =
        console_server::startup::start(config, listener, Arc::new(SystemClock)).await.err().unwrap().to_string();
    assert!(error.contains(&format!("OpenID Connect issuer http://{closed}: discovery failed")), "{error}");
    assert!(!error.contains("s3cret-value"));
}
