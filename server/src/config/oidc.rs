//! `[auth.oidc]` validated: the identity provider, the console's client at it, and how the groups
//! in a person's ID token map to console roles.

use std::fmt;

use app::wire::Role;
use secrecy::SecretString;

use super::environments::parse_service_url;
use super::raw::RawOidc;
use super::secrets::{read_secret, SecretSource};
use super::EnvSource;

/// Where staff sign in and what the console asks for.
#[derive(Clone)]
pub struct OidcSettings {
    /// As written (the provider's discovery document must name exactly this issuer).
    pub issuer: String,
    /// "Sign in with <display_name>".
    pub display_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Always includes `openid`.
    pub scopes: Vec<String>,
    /// Dotted path of the claim that names the person.
    pub username_claim: String,
    /// Dotted path of the claim listing groups (or roles).
    pub groups_claim: String,
    pub roles: RoleMapping,
}

impl fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("display_name", &self.display_name)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("username_claim", &self.username_claim)
            .field("groups_claim", &self.groups_claim)
            .field("roles", &self.roles)
            .finish()
    }
}

/// Per environment (or per group): a role, or `None` for no access.
pub type RoleOverrides = Vec<(String, Option<Role>)>;

/// Group -> role, and per environment group -> role or no access.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleMapping {
    pub roles: Vec<(String, Role)>,
    /// Environment id -> group overrides.
    pub environments: Vec<(String, RoleOverrides)>,
}

/// A person's role and per-environment overrides, from their groups.
pub type ResolvedRoles = (Role, RoleOverrides);

impl RoleMapping {
    /// The highest role among `groups`, and per environment the highest override among the
    /// groups listed there (no access counts lowest). `None` when no group maps to a role.
    pub fn resolve(&self, groups: &[String]) -> Option<ResolvedRoles> {
        let member = |group: &String| groups.iter().any(|g| g == group);
        let role = self.roles.iter().filter(|(g, _)| member(g)).map(|(_, r)| *r).max()?;
        let overrides = self
            .environments
            .iter()
            .filter_map(|(env, map)| {
                let matched = map.iter().filter(|(g, _)| member(g)).map(|(_, r)| *r);
                matched.reduce(Ord::max).map(|role| (env.clone(), role))
            })
            .collect();
        Some((role, overrides))
    }
}

const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

pub(super) fn validate_oidc(
    raw: RawOidc,
    environment_ids: &[&str],
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> Option<OidcSettings> {
    let issuer_url = parse_service_url(raw.issuer.as_deref().map(str::trim), "auth.oidc.issuer", problems);
    let client_id = match raw.client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Some(id.to_owned()),
        _ => {
            problems.push(
                "auth.oidc.client_id is missing: the client id the identity provider issued for the console".into(),
            );
            None
        }
    };
    if raw.client_secret.is_some() {
        problems.push(
            "auth.oidc.client_secret must not be written in configuration: set auth.oidc.client_secret_env (the name \
             of an env var) or auth.oidc.client_secret_file (a file holding only the secret)"
                .into(),
        );
    }
    let source = SecretSource {
        env_key: "auth.oidc.client_secret_env",
        env_var: raw.client_secret_env.as_deref(),
        file_key: "auth.oidc.client_secret_file",
        file: raw.client_secret_file.as_deref(),
    };
    let client_secret = read_secret(&source, env, problems);
    if raw.client_secret_env.is_none() && raw.client_secret_file.is_none() && raw.client_secret.is_none() {
        problems.push(
            "no client secret for auth.oidc: set auth.oidc.client_secret_env to the name of an env var holding it, \
             or auth.oidc.client_secret_file to a file holding it"
                .into(),
        );
    }
    let scopes = validate_scopes(raw.scopes, problems);
    let claim = |value: Option<String>, key: &str, default: &str, problems: &mut Vec<String>| {
        let value = value.unwrap_or_else(|| default.to_owned());
        let ok =
            !value.is_empty() && value.split('.').all(|part| !part.is_empty() && !part.contains(char::is_whitespace));
        if !ok {
            problems.push(format!(
                "auth.oidc.{key} = {value:?} must name a claim, e.g. {default:?} (a dotted path reaches a nested one)"
            ));
        }
        value
    };
    let username_claim = claim(raw.username_claim, "username_claim", "email", problems);
    let groups_claim = claim(raw.groups_claim, "groups_claim", "groups", problems);
    let roles = validate_roles(raw.roles, raw.environments, environment_ids, problems);
    let display_name = raw
        .display_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .or_else(|| issuer_url.as_ref().and_then(|u| u.host_str().map(str::to_owned)))
        .unwrap_or_default();
    issuer_url?;
    Some(OidcSettings {
        issuer: raw.issuer.map(|i| i.trim().to_owned())?,
        display_name,
        client_id: client_id?,
        client_secret: client_secret?,
        scopes,
        username_claim,
        groups_claim,
        roles,
    })
}

fn validate_scopes(raw: Option<Vec<String>>, problems: &mut Vec<String>) -> Vec<String> {
    let mut scopes: Vec<String> = raw.unwrap_or_else(|| DEFAULT_SCOPES.map(str::to_owned).to_vec());
    for scope in &scopes {
        if scope.is_empty() || scope.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\') {
            problems.push(format!("auth.oidc.scopes: {scope:?} is not a scope (one word per entry)"));
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    scopes
}

fn validate_roles(
    roles: std::collections::BTreeMap<String, String>,
    environments: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    environment_ids: &[&str],
    problems: &mut Vec<String>,
) -> RoleMapping {
    if roles.is_empty() {
        problems.push(
            "auth.oidc.roles is empty, so nobody could sign in: map at least one group to a role, e.g. \
             [auth.oidc.roles] \"a55-console-admins\" = \"admin\""
                .into(),
        );
    }
    let mut mapping = RoleMapping::default();
    for (group, value) in roles {
        match Role::parse(&value) {
            Some(role) => mapping.roles.push((group, role)),
            None => problems
                .push(format!("auth.oidc.roles.{group:?} = {value:?}: use \"viewer\", \"operator\" or \"admin\"")),
        }
    }
    for (environment, groups) in environments {
        if !environment_ids.contains(&environment.as_str()) {
            problems.push(format!(
                "auth.oidc.environments.{environment}: there is no environment {environment:?} (known: {})",
                environment_ids.join(", ")
            ));
        }
        let mut overrides = Vec::new();
        for (group, value) in groups {
            match value.as_str() {
                "none" => overrides.push((group, None)),
                other => match Role::parse(other) {
                    Some(role) => overrides.push((group, Some(role))),
                    None => problems.push(format!(
                        "auth.oidc.environments.{environment}.{group:?} = {other:?}: use \"viewer\", \"operator\", \"admin\" or \"none\""
                    )),
                },
            }
        }
        mapping.environments.push((environment, overrides));
    }
    mapping
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> RoleMapping {
        RoleMapping {
            roles: vec![("staff".into(), Role::Viewer), ("ops".into(), Role::Operator), ("leads".into(), Role::Admin)],
            environments: vec![(
                "production".into(),
                vec![("ops".into(), Some(Role::Viewer)), ("contractors".into(), None)],
            )],
        }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn a_person_gets_the_highest_role_of_their_groups_and_nobody_outside_them_gets_in() {
        let m = mapping();
        assert_eq!(m.resolve(&groups(&["staff"])), Some((Role::Viewer, vec![])));
        assert_eq!(m.resolve(&groups(&["staff", "leads"])).map(|r| r.0), Some(Role::Admin));
        assert_eq!(m.resolve(&groups(&["other", "contractors"])), None);
        assert_eq!(m.resolve(&[]), None);
        // Group names are matched exactly: no case folding, no prefixes.
        assert_eq!(m.resolve(&groups(&["Leads", "lead"])), None);
    }

    #[test]
    fn environment_overrides_apply_to_the_groups_listed_there_and_no_access_counts_lowest() {
        let m = mapping();
        let (role, overrides) = m.resolve(&groups(&["ops"])).unwrap();
        assert_eq!(role, Role::Operator);
        assert_eq!(overrides, vec![("production".to_owned(), Some(Role::Viewer))]);
        let (_, overrides) = m.resolve(&groups(&["staff", "contractors"])).unwrap();
        assert_eq!(overrides, vec![("production".to_owned(), None)]);
        let (_, overrides) = m.resolve(&groups(&["ops", "contractors"])).unwrap();
        assert_eq!(overrides, vec![("production".to_owned(), Some(Role::Viewer))]);
    }
}
