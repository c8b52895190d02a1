//! Staff access settings: accounts with roles and per-environment overrides, session timeouts.

use std::fmt;
use std::time::Duration;

use app::wire::Role;

use super::oidc::{validate_oidc, OidcSettings};
use super::raw::RawAuth;
use super::EnvSource;

/// One staff account.
#[derive(Clone)]
pub struct StaffAccount {
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub environment_roles: Vec<(String, Option<Role>)>,
}

impl fmt::Debug for StaffAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffAccount")
            .field("name", &self.name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("environment_roles", &self.environment_roles)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct AuthSection {
    /// Empty, and no `oidc`: local mode.
    pub users: Vec<StaffAccount>,
    /// Whether `users` may sign in with a password (off: only through the identity provider).
    pub local_accounts: bool,
    pub oidc: Option<OidcSettings>,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    pub max_failed_logins: u32,
    pub lockout: Duration,
}

impl AuthSection {
    pub fn local_mode(&self) -> bool {
        self.users.is_empty() && self.oidc.is_none()
    }

    /// Whether the login page offers the name and password form.
    pub fn password_login(&self) -> bool {
        self.local_accounts && !self.users.is_empty()
    }
}

pub(super) fn validate_auth(
    raw: RawAuth,
    environment_ids: &[&str],
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> AuthSection {
    let mut users: Vec<StaffAccount> = Vec::new();
    for (index, user) in raw.users.into_iter().enumerate() {
        let key = format!("auth.users[{index}]");
        let name = user.name.trim().to_owned();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
        if !name_ok {
            problems.push(format!(
                "{key}.name = {:?} must be 1-64 characters of a-z, 0-9, '.', '-', '_' or '@'",
                user.name
            ));
        }
        if users.iter().any(|u| u.name.eq_ignore_ascii_case(&name)) {
            problems.push(format!("{key}.name = {name:?} is listed twice"));
        }
        if let Err(reason) = crate::auth::password::check_phc(&user.password_hash) {
            problems.push(format!(
                "{key}.password_hash for {name:?} {reason}: generate one with `a55-console hash-password`"
            ));
        }
        let role = Role::parse(&user.role);
        if role.is_none() {
            problems.push(format!("{key}.role = {:?}: use \"viewer\", \"operator\" or \"admin\"", user.role));
        }
        let mut environment_roles = Vec::new();
        for (environment, value) in user.environments {
            if !environment_ids.contains(&environment.as_str()) {
                problems.push(format!(
                    "{key}.environments.{environment}: there is no environment {environment:?} (known: {})",
                    environment_ids.join(", ")
                ));
            }
            match value.as_str() {
                "none" => environment_roles.push((environment, None)),
                other => match Role::parse(other) {
                    Some(role) => environment_roles.push((environment, Some(role))),
                    None => problems.push(format!(
                        "{key}.environments.{environment} = {other:?}: use \"viewer\", \"operator\", \"admin\" or \"none\""
                    )),
                },
            }
        }
        if let Some(role) = role {
            users.push(StaffAccount { name, password_hash: user.password_hash, role, environment_roles });
        }
    }
    if !(1..=1440).contains(&raw.idle_timeout_mins) {
        problems.push("auth.idle_timeout_mins must be between 1 and 1440".into());
    }
    if !(1..=168).contains(&raw.absolute_timeout_hours) {
        problems.push("auth.absolute_timeout_hours must be between 1 and 168".into());
    }
    if raw.idle_timeout_mins > raw.absolute_timeout_hours.saturating_mul(60) {
        problems.push("auth.idle_timeout_mins must not be longer than auth.absolute_timeout_hours".into());
    }
    if !(1..=100).contains(&raw.max_failed_logins) {
        problems.push("auth.max_failed_logins must be between 1 and 100".into());
    }
    if !(1..=86_400).contains(&raw.lockout_secs) {
        problems.push("auth.lockout_secs must be between 1 and 86400".into());
    }
    if !raw.local_accounts && raw.oidc.is_none() {
        problems.push(
            "auth.local_accounts = false leaves no way to sign in: configure [auth.oidc], or turn local accounts back on"
                .into(),
        );
    }
    let oidc = raw.oidc.and_then(|oidc| validate_oidc(oidc, environment_ids, env, problems));
    AuthSection {
        users,
        local_accounts: raw.local_accounts,
        oidc,
        idle_timeout: Duration::from_secs(raw.idle_timeout_mins.saturating_mul(60)),
        absolute_timeout: Duration::from_secs(raw.absolute_timeout_hours.saturating_mul(3600)),
        max_failed_logins: raw.max_failed_logins,
        lockout: Duration::from_secs(raw.lockout_secs),
    }
}
