//! The `check-config` summary: one screen that says where secrets come from, never the secrets.

use super::{Config, Target};

/// A one-screen summary for `check-config`; shows where secrets come from, never the secrets.
pub fn summary(config: &Config) -> String {
    let mut out = format!("bind: {}\ndatabase: {}\n", config.bind, config.storage.display());
    match &config.redis_sessions {
        // The URL holds no password (validation refuses one); the password's source is named, never its value.
        Some(redis) => {
            out.push_str(&format!(
                "sessions: Redis at {} (key prefix {:?}, password {}, connect timeout {} ms, command timeout {} ms)\n",
                redis.url,
                redis.key_prefix,
                if redis.password.is_some() { "loaded from sessions.redis_password_env/_file" } else { "none" },
                redis.connect_timeout.as_millis(),
                redis.command_timeout.as_millis(),
            ));
            out.push_str(&format!(
                "shared state: stored bodies in Redis; reveal vault {}\n",
                if redis.vault_key.is_some() {
                    "in Redis, sealed with the key from sessions.vault_key_env/_file"
                } else {
                    "off (no sessions.vault_key_env/_file: masked secrets cannot be revealed)"
                }
            ));
        }
        None => out.push_str("sessions: in the SQLite database (one process; set [sessions] redis_url for replicas)\n"),
    }
    if config.auth.local_mode() {
        out.push_str("staff: none configured, local mode (one local admin, loopback only)\n");
    } else {
        let password = if config.auth.local_accounts { "" } else { ", password sign-in turned off" };
        for user in &config.auth.users {
            out.push_str(&format!("staff: {} ({}{password})\n", user.name, user.role.as_str()));
        }
        if let Some(oidc) = &config.auth.oidc {
            out.push_str(&format!(
                "sign-in: {} via OpenID Connect, issuer {}, client {}, secret from {}, scopes {}, name claim {}, groups claim {}, {} group mapping(s)\n",
                oidc.display_name,
                oidc.issuer,
                oidc.client_id,
                "auth.oidc.client_secret_env/_file",
                oidc.scopes.join(" "),
                oidc.username_claim,
                oidc.groups_claim,
                oidc.roles.roles.len(),
            ));
        }
    }
    out.push_str(if config.metrics_token.is_some() {
        "metrics: /metrics takes a staff session or the scrape token (loaded)\n"
    } else {
        "metrics: /metrics takes a staff session (no scrape token configured)\n"
    });
    for env in &config.environments {
        out.push_str(&format!("environment {} ({}, {}):\n", env.id, env.label, env.kind.as_str()));
        match &env.target {
            Target::Simulator => out.push_str(&format!(
                "  built-in simulator, token lifetime {} s\n",
                config.simulator.token_lifetime.as_secs()
            )),
            Target::SimulatorProduction => out.push_str(&format!(
                "  built-in simulator, production-like data, token lifetime {} s\n",
                config.simulator.token_lifetime.as_secs()
            )),
            Target::Remote(remote) => {
                out.push_str(&format!("  api_base:  {}\n  token_url: {}\n", remote.api_base, remote.token_url));
                // Never the secret, nor its length: only that one was found.
                out.push_str(&format!("  client_id: {}  client secret: loaded\n", remote.client_id));
            }
        }
        out.push_str(&format!(
            "  auth: {:?}, scope: {}, refresh skew: {} s, timeouts: connect {} s / request {} s / token {} s, max response: {} bytes\n",
            env.client_auth,
            env.scope.as_deref().unwrap_or("(none)"),
            env.refresh_skew.as_secs(),
            env.timeouts.connect.as_secs(),
            env.timeouts.request.as_secs(),
            env.timeouts.token.as_secs(),
            env.max_response_bytes
        ));
        if let Some(path) = &env.live_spec {
            out.push_str(&format!("  live spec: {path} (under api_base)\n"));
        }
    }
    for path in &config.catalog_documents {
        out.push_str(&format!("catalog document: {}\n", path.display()));
    }
    out.push_str(&format!(
        "history: newest {} runs per staff member, at most {} days\n",
        config.history.max_entries,
        config.history.max_age.as_secs() / 86_400
    ));
    out
}
