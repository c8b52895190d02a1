#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed step is a failed test")]
//! The login page without WASM over real HTTP: the page is plain HTML, its form posts to `POST
//! /login`, which logs in exactly as the `OpenSession` server function does (throttle, audit, a new
//! session id), answers 303 to `next` or the page again with the reason, and refuses a post that
//! cannot prove it came from the console's own page.

use std::sync::Arc;

use app::wire::{ConsoleError, StaffView};
use console_server::clock::SystemClock;
use console_server::config::RawConfig;

use crate::auth::{user, COOKIE, PASSWORD};
use crate::support::*;

async fn staffed() -> TestConsole {
    let mut raw = RawConfig::default();
    raw.auth.users = vec![user("alice", "admin", &[]), user("olga", "operator", &[])];
    TestConsole::start(raw, Vars::default(), Arc::new(SystemClock)).await
}

/// A browser's client: no anti-CSRF header, no cookie jar, redirects not followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// What chromium sends with the login page's form: `Sec-Fetch-Site` and `Origin`.
async fn post_form(console: &TestConsole, fields: &[(&str, &str)], cookie: Option<&str>) -> reqwest::Response {
    let mut request = browser()
        .post(format!("{}/login", console.base))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &console.base)
        .form(fields);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE}={cookie}"));
    }
    request.send().await.unwrap()
}

fn session_of(response: &reqwest::Response) -> Option<String> {
    set_cookie_named(response, COOKIE)
        .map(|header| header.split(';').next().unwrap().trim_start_matches(&format!("{COOKIE}=")).to_owned())
        .filter(|value| !value.is_empty())
}

async fn logins(console: &TestConsole) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM staff_logins")
        .fetch_one(console.console.db.sqlite().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_login_page_is_plain_html_that_loads_no_script_or_wasm_of_the_app() {
    let console = staffed().await;
    let page = browser().get(format!("{}/login?next=%2Faudit", console.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<main data-hydrated="true" class="login">"#), "ready as served: {html}");
    assert!(html.contains(r#"<form method="post" action="/login""#), "{html}");
    assert!(html.contains(r#"<input type="hidden" name="next" value="/audit""#), "{html}");
    for absent in [".wasm", "/pkg/a55-console.js", "modulepreload", "hydrate(", "Loading…"] {
        assert!(!html.contains(absent), "{absent} in the login page: {html}");
    }
    // Only inline scripts, each with this response's nonce: the theme's, and Leptos' (empty) table of
    // resolved resources that every server-rendered document ends with.
    assert_eq!(html.matches("<script").count(), html.matches("<script nonce=").count(), "{html}");
    assert!(html.contains(r#"rel="stylesheet" href="/pkg/a55-console"#), "the stylesheet stays: {html}");
    assert!(html.contains(app::ui::parts::theme::EARLY_SCRIPT), "the theme's early script stays: {html}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("wasm-unsafe-eval"), "a page without WASM allows none: {csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(headers["referrer-policy"], "same-origin", "so that the form carries an Origin and a Referer");

    // The console's own pages still hydrate.
    let cookie = console.login("alice").await;
    let home = browser().get(&console.base).header("cookie", format!("{COOKIE}={cookie}")).send().await.unwrap();
    let (csp, referrer) =
        (home.headers()["content-security-policy"].clone(), home.headers()["referrer-policy"].clone());
    let home = home.text().await.unwrap();
    assert!(home.contains(".wasm") && home.contains("hydrate("), "the console page loads the app");
    assert!(csp.to_str().unwrap().contains("'wasm-unsafe-eval'"));
    assert_eq!(referrer, "no-referrer");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_form_login_rotates_the_session_and_answers_303_to_next() {
    let console = staffed().await;
    let planted = console.login("olga").await;
    let response = post_form(
        &console,
        &[("name", "alice"), ("password", PASSWORD), ("next", "/compare?left=a&right=b")],
        Some(&planted),
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/compare?left=a&right=b");
    let header = set_cookie_named(&response, COOKIE).expect("the form login sets the session cookie");
    for attribute in ["; HttpOnly", "; SameSite=Strict", "; Secure", "; Path=/"] {
        assert!(header.contains(attribute), "{attribute} missing in {header}");
    }
    let fresh = session_of(&response).unwrap();
    assert_ne!(fresh, planted, "a new session id");
    assert_eq!(console.whoami(&planted).await.status(), 401, "the id from before the login is dead");
    let me: StaffView = console.whoami(&fresh).await.json().await.unwrap();
    assert_eq!(me.name, "alice");
    console.console.shutdown().await;
}

#[tokio::test]
async fn an_unsafe_next_sends_a_form_login_to_the_console_page() {
    let console = staffed().await;
    for next in ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""] {
        let response = post_form(&console, &[("name", "alice"), ("password", PASSWORD), ("next", next)], None).await;
        assert_eq!(response.status(), 303, "{next}");
        assert_eq!(response.headers()["location"], "/", "{next}");
    }
    let without = post_form(&console, &[("name", "alice"), ("password", PASSWORD)], None).await;
    assert_eq!(without.headers()["location"], "/");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_page_again_with_the_reason_and_its_status_keeping_the_name_and_never_the_password()
{
    let console = staffed().await;
    let wrong = "a wrong password, not to be echoed";
    let response = post_form(&console, &[("name", "alice"), ("password", wrong), ("next", "/token")], None).await;
    assert_eq!(response.status(), 401, "ConsoleError::Unauthenticated");
    assert!(session_of(&response).is_none(), "a refused login sets no cookie");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"data-testid="login-error" class="login-error">wrong name or password</p>"#), "{html}");
    assert!(html.contains(r#"name="name" value="alice""#), "the name stays in its field: {html}");
    assert!(html.contains(r#"name="next" value="/token""#), "next is kept: {html}");
    assert!(!html.contains(wrong), "the password is never sent back");
    assert!(!html.contains(".wasm"), "still the plain page");

    // What staff type is shown as text, never as markup.
    let name = r#"<b>bold" onfocus="x"#;
    let response = post_form(&console, &[("name", name), ("password", wrong)], None).await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(!html.contains(name) && !html.contains("<b>"), "{html}");
    assert!(html.contains("&quot;"), "{html}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_cross_site_login_post_is_refused_with_403_and_logs_nobody_in() {
    let console = staffed().await;
    let before = logins(&console).await;
    let url = format!("{}/login", console.base);
    let form = [("name", "alice"), ("password", PASSWORD), ("next", "/")];
    let own_page = format!("{}/login?next=%2F", console.base);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("Sec-Fetch-Site cross-site", vec![("sec-fetch-site", "cross-site")]),
        ("Sec-Fetch-Site same-site", vec![("sec-fetch-site", "same-site")]),
        ("Sec-Fetch-Site none", vec![("sec-fetch-site", "none")]),
        ("cross-site despite our Origin", vec![("sec-fetch-site", "cross-site"), ("origin", &console.base)]),
        ("a foreign Origin", vec![("origin", "https://evil.example")]),
        (
            "a foreign Origin, same-origin claimed",
            vec![("sec-fetch-site", "same-origin"), ("origin", "http://evil.example")],
        ),
        ("a foreign Referer", vec![("referer", "https://evil.example/login")]),
        ("Origin: null and nothing else", vec![("origin", "null")]),
        ("no proof at all", vec![]),
    ];
    for (case, headers) in cases {
        let request = headers.iter().fold(browser().post(&url), |b, (k, v)| b.header(*k, *v)).form(&form);
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{case}");
        assert!(set_cookie_named(&response, COOKIE).is_none(), "{case}: no session");
        let error: ConsoleError = response.json().await.unwrap();
        assert!(matches!(&error, ConsoleError::Forbidden(m) if m.starts_with("refused: ")), "{case}: {error:?}");
    }
    assert_eq!(logins(&console).await, before, "nobody was logged in");
    assert!(audit_rows_of(&console, "login").await.is_empty());
    let no_proof = browser().post(&url).form(&form).send().await.unwrap();
    let error: ConsoleError = no_proof.json().await.unwrap();
    assert!(error.to_string().contains("no Sec-Fetch-Site, Origin or Referer"), "{error}");

    // The controls: each proof alone is enough.
    let proofs: [(&str, Vec<(&str, &str)>); 4] = [
        ("Sec-Fetch-Site same-origin", vec![("sec-fetch-site", "same-origin")]),
        ("Sec-Fetch-Site same-origin, Origin null", vec![("sec-fetch-site", "same-origin"), ("origin", "null")]),
        ("our Origin", vec![("origin", &console.base)]),
        ("a Referer from our login page", vec![("referer", &own_page)]),
    ];
    for (case, headers) in proofs {
        let request = headers.iter().fold(browser().post(&url), |b, (k, v)| b.header(*k, *v)).form(&form);
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 303, "{case}");
        assert!(session_of(&response).is_some(), "{case}");
    }
    console.console.shutdown().await;
}

#[tokio::test]
async fn form_and_server_function_logins_share_one_throttle_and_lockout() {
    let console = staffed().await;
    let api = |password: &'static str| {
        console
            .http
            .post(format!("{}/api/login", console.base))
            .form(&[("name", "alice"), ("password", password)])
            .send()
    };
    // Five failures (the default), mixed: the form and the server function count as one.
    for _ in 0..3 {
        let response = post_form(&console, &[("name", "alice"), ("password", "wrong password!")], None).await;
        assert_eq!(response.status(), 401);
    }
    for _ in 0..2 {
        assert_eq!(api("wrong password!").await.unwrap().status(), 401);
    }
    let locked = post_form(&console, &[("name", "alice"), ("password", PASSWORD), ("next", "/audit")], None).await;
    assert_eq!(locked.status(), 429, "locked out, even with the right password");
    assert!(session_of(&locked).is_none());
    let html = locked.text().await.unwrap();
    assert!(html.contains("too many failed logins: try again in 15 minute(s)"), "{html}");
    assert!(html.contains(r#"name="next" value="/audit""#), "{html}");
    let through_api = api(PASSWORD).await.unwrap();
    assert_eq!(through_api.status(), 429);
    let error: ConsoleError = through_api.json().await.unwrap();
    assert_eq!(error, ConsoleError::RateLimited("too many failed logins: try again in 15 minute(s)".into()));
    // The address is blocked for every account, through the form too.
    assert_eq!(post_form(&console, &[("name", "olga"), ("password", PASSWORD)], None).await.status(), 429);
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_form_login_is_audited_exactly_as_a_server_function_login() {
    let console = staffed().await;
    let api = console
        .http
        .post(format!("{}/api/login", console.base))
        .form(&[("name", "olga"), ("password", "wrong password!")])
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
    let form = post_form(&console, &[("name", "alice"), ("password", "wrong password!")], None).await;
    assert_eq!(form.status(), 401);
    console.login("olga").await;
    assert_eq!(post_form(&console, &[("name", "alice"), ("password", PASSWORD)], None).await.status(), 303);

    let failed = audit_rows_of(&console, "login_failed").await;
    let detail = Some("wrong name or password".to_owned());
    assert_eq!(
        failed,
        vec![("olga".into(), "failed".into(), detail.clone()), ("alice".into(), "failed".into(), detail)]
    );
    let logged_in = audit_rows_of(&console, "login").await;
    assert_eq!(logged_in, vec![("olga".into(), "ok".into(), None), ("alice".into(), "ok".into(), None)]);
    let sessions: Vec<Option<String>> =
        sqlx::query_scalar("SELECT session FROM audit_log WHERE event = 'login' ORDER BY id")
            .fetch_all(console.console.db.sqlite().unwrap())
            .await
            .unwrap();
    assert!(sessions.iter().all(|s| s.as_ref().is_some_and(|s| s.len() == 16)), "{sessions:?}");
    console.console.shutdown().await;
}

#[tokio::test]
async fn a_login_post_that_is_not_a_form_is_told_what_to_send() {
    let console = staffed().await;
    let response = browser()
        .post(format!("{}/login", console.base))
        .header("sec-fetch-site", "same-origin")
        .json(&serde_json::json!({ "name": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: ConsoleError = response.json().await.unwrap();
    assert!(error.to_string().contains("application/x-www-form-urlencoded with the fields name, password and next"));
    assert_eq!(logins(&console).await, 0);
    console.console.shutdown().await;
}
