use super::*;
use app::wire::EnvironmentKind;
use environments::parse_service_url;
use figment::providers::{Format, Toml};
use figment::Figment;
use secrecy::ExposeSecret;
use std::collections::HashMap;

#[derive(Default)]
struct FakeEnv(HashMap<String, String>);

impl FakeEnv {
    fn with(mut self, k: &str, v: &str) -> Self {
        self.0.insert(k.into(), v.into());
        self
    }
}

impl EnvSource for FakeEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

fn write_toml(text: &str) -> tempfile_lite::TempFile {
    tempfile_lite::TempFile::with_contents(text)
}

/// A tiny temp-file helper so config tests read real files without another dependency.
mod tempfile_lite {
    pub struct TempFile(pub std::path::PathBuf);
    impl TempFile {
        pub fn with_contents(text: &str) -> Self {
            let path = std::env::temp_dir().join(format!("a55-console-test-{}.toml", uuid::Uuid::new_v4()));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn masking_rules_are_checked_and_forced_demo_mode_is_read() {
    let file = write_toml(
        r#"
[masking]
force_demo = true
secret_fields = ["Merchant-Pin", " "]
demo_rules = ["$.data[*].description", "$.data[", ""]
"#,
    );
    let errors = load(Some(&file.0), &FakeEnv::default()).unwrap_err().0;
    let text = errors.join("\n");
    assert!(text.contains("masking.secret_fields[1] is empty"), "{text}");
    assert!(text.contains("masking.demo_rules[1] = \"$.data[\": invalid JSONPath at column"), "{text}");
    assert!(text.contains("masking.demo_rules[2] = \"\": the expression is empty"), "{text}");
    assert_eq!(errors.len(), 3, "{text}");

    let file =
        write_toml("[masking]\nforce_demo = true\nsecret_fields = [\"Merchant-Pin\"]\ndemo_rules = [\"$..note\"]\n");
    let config = load(Some(&file.0), &FakeEnv::default()).unwrap();
    assert!(config.masking.force_demo);
    assert_eq!(config.masking.secret_fields, ["merchantpin"]);
    assert_eq!(config.masking.demo_rules[0].expression, "$..note");
    assert!(!load(None, &FakeEnv::default()).unwrap().masking.force_demo, "off unless configured");
}

#[test]
fn the_example_configuration_is_valid_once_its_secrets_are_set() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../console.example.toml");
    let env = FakeEnv::default()
        .with("A55_SANDBOX_CLIENT_SECRET", "sandbox-secret")
        .with("A55_PRODUCTION_CLIENT_SECRET", "production-secret");
    let config = load(Some(&example), &env).unwrap();
    let kinds: Vec<_> = config.environments.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["simulator", "sandbox", "production"]);
    let Target::Remote(production) = &config.environments[2].target else { panic!("remote") };
    assert_eq!(production.api_base.as_str(), "https://core-manager.a55.tech/api/v1/");
    assert!(production.token_url.as_str().starts_with("https://smart-capital.auth.us-east-1.amazoncognito.com/"));
    let summary = summary(&config);
    assert!(!summary.contains("production-secret") && !summary.contains("sandbox-secret"), "{summary}");
}

#[test]
fn no_file_and_no_env_gives_the_simulator_and_its_protected_production_twin() {
    let config = load(None, &FakeEnv::default()).unwrap();
    assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
    assert_eq!(config.environments.len(), 2);
    assert_eq!(config.environments[0].id, "simulator");
    assert!(matches!(config.environments[0].target, Target::Simulator));
    let production = &config.environments[1];
    assert_eq!((production.id.as_str(), production.kind), ("simulator-production", EnvironmentKind::Production));
    assert!(matches!(production.target, Target::SimulatorProduction));
    assert!(production.guard.confirm_writes, "production confirms writes by default");
    assert_eq!(config.environments[0].refresh_skew, Duration::from_secs(300));
}

#[test]
fn a_complete_file_loads_with_secrets_from_env_and_file() {
    let secret_file = write_toml("file-secret\n");
    let file = write_toml(&format!(
        r#"
[server]
bind = "127.0.0.1:4000"
[environments.sandbox]
kind = "sandbox"
api_base = "https://sandbox.example.test/api/v1"
token_url = "https://auth.example.test/oauth2/token"
client_id = "abc"
client_secret_env = "SANDBOX_SECRET"
client_auth = "client_secret_basic"
[environments.production]
kind = "production"
api_base = "https://core-manager.a55.tech/api/v1/"
token_url = "https://smart-capital.auth.us-east-1.amazoncognito.com/oauth2/token"
client_id = "def"
client_secret_file = "{}"
"#,
        secret_file.0.display()
    ));
    let env = FakeEnv::default().with("SANDBOX_SECRET", "env-secret");
    let config = load(Some(&file.0), &env).unwrap();
    let ids: Vec<_> = config.environments.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["sandbox", "production"]);
    let Target::Remote(sandbox) = &config.environments[0].target else { panic!("remote") };
    assert_eq!(sandbox.api_base.as_str(), "https://sandbox.example.test/api/v1/");
    assert_eq!(sandbox.client_secret.expose_secret(), "env-secret");
    assert_eq!(config.environments[0].client_auth, ClientAuth::SecretBasic);
    let Target::Remote(production) = &config.environments[1].target else { panic!("remote") };
    assert_eq!(production.client_secret.expose_secret(), "file-secret");
}

#[test]
fn every_problem_is_reported_at_once_with_what_to_fix() {
    let file = write_toml(
        r#"
[server]
bind = "nowhere"
[environments.prod]
kind = "production"
api_base = "http://core-manager.a55.tech/api/v1"
token_url = "not a url"
client_secret = "oops"
token_timeout_secs = 60
request_timeout_secs = 30
[environments.Bad]
kind = "staging"
"#,
    );
    let errors = load(Some(&file.0), &FakeEnv::default()).unwrap_err();
    let text = errors.to_string();
    for expected in [
        "server.bind",
        "environments.prod.api_base",
        "must use https",
        "environments.prod.token_url",
        "environments.prod.client_id is missing",
        "environments.prod.client_secret must not be written in configuration",
        "token_timeout_secs (60 s) must be shorter",
        "environment id \"Bad\"",
        "environments.Bad.kind = \"staging\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("oops"), "the misplaced secret must not be echoed");
    assert!(errors.0.len() >= 8, "{text}");
}

#[test]
fn env_vars_override_the_file() {
    let file = write_toml("[server]\nbind = \"127.0.0.1:4000\"\n");
    let env = FakeEnv::default()
        .with("A55_CONSOLE__SERVER__BIND", "127.0.0.1:4100")
        .with("A55_CONSOLE__SIMULATOR__TOKEN_LIFETIME_SECS", "120");
    let config = load(Some(&file.0), &env).unwrap();
    assert_eq!(config.bind.to_string(), "127.0.0.1:4100");
    assert_eq!(config.simulator.token_lifetime, Duration::from_secs(120));
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let file = write_toml("[server]\nbnid = \"127.0.0.1:4000\"\n");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("bnid"), "{text}");
}

#[test]
fn a_missing_secret_env_var_is_named() {
    let file = write_toml(
        "[environments.sandbox]\nkind = \"sandbox\"\napi_base = \"https://a.test/\"\ntoken_url = \"https://b.test/oauth2/token\"\nclient_id = \"x\"\nclient_secret_env = \"NOPE_SECRET\"\n",
    );
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("NOPE_SECRET, which is not set"), "{text}");
}

#[test]
fn plain_http_is_accepted_on_loopback_only() {
    let mut problems = Vec::new();
    assert!(parse_service_url(Some("http://127.0.0.1:8080/api"), "k", &mut problems).is_some());
    assert!(parse_service_url(Some("http://localhost:8080/api"), "k", &mut problems).is_some());
    assert!(problems.is_empty());
    assert!(parse_service_url(Some("http://10.0.0.1/api"), "k", &mut problems).is_none());
    assert!(parse_service_url(Some("https://user:pw@a.test/"), "k", &mut problems).is_none());
    assert_eq!(problems.len(), 2);
}

#[test]
fn debug_output_of_the_raw_file_hides_a_misplaced_secret_and_password_hashes() {
    let file = write_toml(
        "[[auth.users]]\nname = \"ana\"\npassword_hash = \"$argon2id$hash-text\"\nrole = \"admin\"\n[environments.prod]\nkind = \"production\"\nclient_secret = \"oops-secret\"\n[sessions]\nredis_url = \"redis://user:oops-redis-password@redis.internal:6379/0\"\n",
    );
    let raw: RawConfig = Figment::from(Toml::file(&file.0)).extract().unwrap();
    let text = format!("{raw:?}");
    assert!(!text.contains("oops-secret") && !text.contains("hash-text"), "{text}");
    assert!(!text.contains("oops-redis-password") && text.contains("redis.internal"), "{text}");
    assert!(text.contains("ana"), "{text}");
}

#[test]
fn debug_output_of_a_remote_target_hides_the_secret() {
    let target = RemoteTarget {
        api_base: Url::parse("https://a.test/").unwrap(),
        token_url: Url::parse("https://a.test/t").unwrap(),
        client_id: "id".into(),
        client_secret: SecretString::from("s3cr3t-value".to_owned()),
        client_secret_file: None,
    };
    let text = format!("{target:?}");
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[test]
fn live_specs_extra_documents_and_history_retention_are_read_and_checked() {
    let file = write_toml(
        r#"
[catalog]
extra_documents = ["partner.yaml", ""]
[history]
max_entries = 0
max_age_days = 7
[environments.simulator]
kind = "simulator"
live_spec = true
[environments.other]
kind = "simulator"
live_spec = "../../etc/passwd"
"#,
    );
    let errors = load(Some(&file.0), &FakeEnv::default()).unwrap_err().0;
    let text = errors.join("\n");
    assert!(text.contains("catalog.extra_documents[1] is empty"), "{text}");
    assert!(text.contains("history.max_entries = 0 must be between 1 and 1000000"), "{text}");
    assert!(text.contains("environments.other.live_spec = \"../../etc/passwd\""), "{text}");
    assert_eq!(errors.len(), 3, "{text}");

    let file = write_toml(
        r#"
[catalog]
extra_documents = ["partner.yaml"]
[environments.simulator]
kind = "simulator"
live_spec = true
[environments.docs]
kind = "simulator"
live_spec = "docs/openapi.json"
[environments.off]
kind = "simulator"
live_spec = false
"#,
    );
    let config = load(Some(&file.0), &FakeEnv::default()).unwrap();
    assert_eq!(config.catalog_documents, vec![PathBuf::from("partner.yaml")]);
    assert_eq!(config.history.max_entries, 500);
    assert_eq!(config.history.max_age, Duration::from_secs(30 * 86_400));
    let spec = |id: &str| config.environments.iter().find(|e| e.id == id).unwrap().live_spec.clone();
    assert_eq!(spec("simulator").as_deref(), Some("swagger.json"));
    assert_eq!(spec("docs").as_deref(), Some("docs/openapi.json"));
    assert_eq!(spec("off"), None);
}

#[test]
fn a_response_cap_larger_than_the_body_store_is_refused_at_start_up() {
    let too_big = crate::bodies::MAX_TOTAL_BYTES as u64 + 1;
    let file = write_toml(&format!("[environments.local]\nkind = \"simulator\"\nmax_response_bytes = {too_big}\n"));
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("environments.local.max_response_bytes"), "{text}");
    assert!(text.contains(&crate::bodies::MAX_TOTAL_BYTES.to_string()), "{text}");
    let fits = write_toml(&format!(
        "[environments.local]\nkind = \"simulator\"\nmax_response_bytes = {}\n",
        crate::bodies::MAX_TOTAL_BYTES
    ));
    assert!(load(Some(&fits.0), &FakeEnv::default()).is_ok());
}

#[test]
fn the_metrics_scrape_token_comes_from_an_env_var_or_a_file_never_the_file_itself_and_is_long() {
    let token = "0123456789abcdef0123456789abcdef";
    let env = FakeEnv::default().with("SCRAPE", token);
    let file = write_toml("[server]\nmetrics_token_env = \"SCRAPE\"\n");
    let config = load(Some(&file.0), &env).unwrap();
    assert_eq!(config.metrics_token.as_ref().map(|t| t.expose_secret().to_owned()).as_deref(), Some(token));
    assert!(summary(&config).contains("scrape token (loaded)"));
    assert!(!summary(&config).contains(token));

    let written = write_toml("[server]\nmetrics_token = \"0123456789abcdef0123456789abcdef\"\n");
    let text = load(Some(&written.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("server.metrics_token must not be written"), "{text}");
    assert!(!text.contains("0123456789abcdef"), "{text}");

    let short = FakeEnv::default().with("SCRAPE", "short");
    let text = load(Some(&file.0), &short).unwrap_err().to_string();
    assert!(text.contains("at least 32 characters"), "{text}");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("SCRAPE, which is not set"), "{text}");

    let none = load(None, &FakeEnv::default()).unwrap();
    assert!(none.metrics_token.is_none());
    assert!(summary(&none).contains("no scrape token configured"));
}

#[test]
fn sign_in_through_an_identity_provider_is_checked_with_every_problem_named() {
    let file = write_toml(
        r#"
[auth]
local_accounts = false
[auth.oidc]
issuer = "http://idp.example.com/realms/staff"
client_secret = "oops-oidc"
scopes = ["profile", "two words"]
username_claim = "a..b"
[auth.oidc.roles]
"ops" = "superuser"
[auth.oidc.environments.nowhere]
"ops" = "maybe"
"#,
    );
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    for expected in [
        "auth.oidc.issuer = \"http://idp.example.com/realms/staff\" must use https",
        "auth.oidc.client_id is missing",
        "auth.oidc.client_secret must not be written in configuration",
        "auth.oidc.scopes: \"two words\" is not a scope",
        "auth.oidc.username_claim = \"a..b\" must name a claim",
        "auth.oidc.roles.\"ops\" = \"superuser\"",
        "auth.oidc.environments.nowhere: there is no environment",
        "auth.oidc.environments.nowhere.\"ops\" = \"maybe\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("oops-oidc"), "the misplaced secret must not be echoed");

    let file = write_toml("[auth]\nlocal_accounts = false\n");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("auth.local_accounts = false leaves no way to sign in"), "{text}");
    let file =
        write_toml("[auth.oidc]\nissuer = \"https://idp.example.com\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n");
    let text = load(Some(&file.0), &FakeEnv::default().with("S", "x")).unwrap_err().to_string();
    assert!(text.contains("auth.oidc.roles is empty, so nobody could sign in"), "{text}");
}

#[test]
fn an_identity_provider_alone_is_not_local_mode_and_its_secret_comes_from_env_or_file() {
    let file = write_toml(
        "[auth.oidc]\nissuer = \"https://idp.example.com/\"\ndisplay_name = \" Okta \"\nclient_id = \"console\"\nclient_secret_env = \"OIDC\"\ngroups_claim = \"realm_access.roles\"\n[auth.oidc.roles]\nstaff = \"viewer\"\n",
    );
    let config = load(Some(&file.0), &FakeEnv::default().with("OIDC", " s3cret \n")).unwrap();
    assert!(!config.auth.local_mode());
    assert!(!config.auth.password_login(), "no local accounts, no password form");
    let oidc = config.auth.oidc.as_ref().unwrap();
    assert_eq!(oidc.issuer, "https://idp.example.com/", "kept as written: discovery compares it exactly");
    assert_eq!(oidc.display_name, "Okta");
    assert_eq!(oidc.client_secret.expose_secret(), "s3cret");
    assert_eq!(oidc.scopes, ["openid", "profile", "email"]);
    assert_eq!((oidc.username_claim.as_str(), oidc.groups_claim.as_str()), ("email", "realm_access.roles"));
    assert!(!format!("{oidc:?}").contains("s3cret"));
    let summary = summary(&config);
    assert!(summary.contains("sign-in: Okta via OpenID Connect"), "{summary}");
    assert!(!summary.contains("s3cret"), "{summary}");
}

#[test]
fn redis_sessions_take_the_password_from_an_env_var_and_check_config_never_shows_it() {
    let password = "CANARY-redis-password-0123456789";
    let env = FakeEnv::default().with("REDIS_PW", password);
    let file = write_toml(
        "[sessions]\nredis_url = \"rediss://console@redis.internal:6380/2\"\nredis_password_env = \"REDIS_PW\"\nkey_prefix = \"a55:\"\n",
    );
    let config = load(Some(&file.0), &env).unwrap();
    let redis = config.redis_sessions.as_ref().expect("Redis sessions configured");
    assert_eq!(redis.password.as_ref().map(|p| p.expose_secret().to_owned()).as_deref(), Some(password));
    assert_eq!(redis.host(), "redis.internal:6380");
    assert_eq!(redis.key_prefix, "a55:");
    let text = summary(&config);
    assert!(text.contains("sessions: Redis at rediss://console@redis.internal:6380/2"), "{text}");
    assert!(text.contains("password loaded from sessions.redis_password_env/_file"), "{text}");
    assert!(!text.contains(password), "{text}");
    assert!(!format!("{config:?}").contains(password));

    let from_env = FakeEnv::default()
        .with("A55_CONSOLE__SESSIONS__REDIS_URL", "redis://redis.internal:6379/0")
        .with("A55_CONSOLE__SESSIONS__COMMAND_TIMEOUT_MS", "250");
    let config = load(None, &from_env).unwrap();
    let redis = config.redis_sessions.expect("set through the environment alone");
    assert_eq!((redis.url.as_str(), redis.command_timeout.as_millis()), ("redis://redis.internal:6379/0", 250));
    assert!(redis.password.is_none());

    let default = load(None, &FakeEnv::default()).unwrap();
    assert!(default.redis_sessions.is_none(), "without [sessions] nothing changes");
    assert!(summary(&default).contains("sessions: in the SQLite database"));
}

#[test]
fn the_state_key_comes_from_an_env_var_as_base64_or_hex_and_a_wrong_one_is_refused_without_repeating_it() {
    let toml = "[sessions]\nredis_url = \"redis://redis.internal:6379/0\"\nstate_key_env = \"STATE_KEY\"\n";
    let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let config = load(Some(&write_toml(toml).0), &FakeEnv::default().with("STATE_KEY", hex_key)).unwrap();
    let key = config.state_key.as_ref().expect("the key is loaded");
    assert_eq!(hex::encode(key.bytes()), hex_key);
    assert!(!format!("{config:?}").contains("00112233"), "Debug never shows the key");
    let base64_key = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";
    let config = load(Some(&write_toml(toml).0), &FakeEnv::default().with("STATE_KEY", base64_key)).unwrap();
    assert_eq!(config.state_key.map(|k| hex::encode(k.bytes())).as_deref(), Some(hex_key));
    let short = "CANARY-short-state-key";
    let errors = load(Some(&write_toml(toml).0), &FakeEnv::default().with("STATE_KEY", short)).unwrap_err().to_string();
    assert!(
        errors.contains("the state key (sessions.state_key_env/_file) is neither base64 nor 64 hex digits"),
        "{errors}"
    );
    assert!(!errors.contains(short), "{errors}");
    assert!(load(None, &FakeEnv::default()).unwrap().state_key.is_none(), "no key: tokens stay per replica");
}

#[test]
fn a_redis_url_with_a_password_a_wrong_scheme_or_bad_timeouts_is_refused_without_repeating_it() {
    let file = write_toml(
        "[sessions]\nredis_url = \"redis://user:hunter2-secret@redis.internal:6379\"\nconnect_timeout_ms = 0\n",
    );
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("sessions.redis_url must not carry a password"), "{text}");
    assert!(text.contains("sessions.connect_timeout_ms = 0"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let file = write_toml("[sessions]\nredis_url = \"http://redis.internal:6379\"\n");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("must be redis://host"), "{text}");

    let file = write_toml("[sessions]\nredis_url = \"redis://redis.internal\"\nredis_password_env = \"MISSING\"\n");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("sessions.redis_password_env names env var MISSING"), "{text}");

    let file = write_toml("[sessions]\nredis_password_env = \"REDIS_PW\"\n");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("without sessions.redis_url"), "{text}");
}

#[test]
fn the_vault_key_is_32_bytes_of_base64_or_hex_from_env_or_file_and_is_never_shown() {
    let key = "CANARY-SECRET-vault-key-0123456789abcdefghA";
    let toml = "[sessions]\nredis_url = \"redis://redis.internal\"\nvault_key_env = \"VAULT_KEY\"\n";
    let file = write_toml(toml);
    let config = load(Some(&file.0), &FakeEnv::default().with("VAULT_KEY", key)).unwrap();
    let redis = config.redis_sessions.as_ref().unwrap();
    assert!(redis.vault_key.is_some(), "base64url, no padding");
    let text = summary(&config);
    assert!(text.contains("reveal vault in Redis, sealed with the key from sessions.vault_key_env/_file"), "{text}");
    assert!(!text.contains(key) && !format!("{config:?}").contains(key));

    let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    assert!(load(Some(&file.0), &FakeEnv::default().with("VAULT_KEY", hex_key))
        .unwrap()
        .redis_sessions
        .unwrap()
        .vault_key
        .is_some());
    let padded = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    assert!(load(Some(&file.0), &FakeEnv::default().with("VAULT_KEY", padded))
        .unwrap()
        .redis_sessions
        .unwrap()
        .vault_key
        .is_some());

    let short = "CANARY-SECRET-short-keyA";
    let text = load(Some(&file.0), &FakeEnv::default().with("VAULT_KEY", short)).unwrap_err().to_string();
    assert!(text.contains("must be 32 bytes; it decodes to 18 bytes"), "{text}");
    assert!(!text.contains(short), "{text}");
    let text = load(Some(&file.0), &FakeEnv::default().with("VAULT_KEY", "not a key!")).unwrap_err().to_string();
    assert!(text.contains("is neither base64 nor 64 hex digits"), "{text}");
    let text = load(Some(&file.0), &FakeEnv::default()).unwrap_err().to_string();
    assert!(text.contains("sessions.vault_key_env names env var VAULT_KEY"), "{text}");

    let without =
        load(Some(&write_toml("[sessions]\nredis_url = \"redis://redis.internal\"\n").0), &FakeEnv::default()).unwrap();
    assert!(summary(&without).contains("reveal vault off"));
    let file = write_toml("[sessions]\nvault_key_env = \"VAULT_KEY\"\n");
    let text = load(Some(&file.0), &FakeEnv::default().with("VAULT_KEY", key)).unwrap_err().to_string();
    assert!(text.contains("sessions.vault_key_env/_file is set without sessions.redis_url"), "{text}");
}
