//! Who may send what where: roles × environment kind × method, then the environment's guard rails.
//! Pure functions, called by the service before any token is fetched.

use app::wire::{ConsoleError, EnvironmentKind, GuardView, Role};

use crate::config::{Environment, GuardRails};

/// Methods that read only; everything else is a write.
pub fn is_read_only_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

const ALL_METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

/// Whether a role may see an environment at all.
pub fn can_see(role: Option<Role>, kind: EnvironmentKind) -> bool {
    match role {
        None => false,
        Some(Role::Viewer) => kind != EnvironmentKind::Production,
        Some(Role::Operator | Role::Admin) => true,
    }
}

/// Whether the role itself allows writes in an environment of this kind.
fn role_may_write(role: Role, kind: EnvironmentKind) -> bool {
    match role {
        Role::Viewer => false,
        Role::Operator => kind != EnvironmentKind::Production,
        Role::Admin => true,
    }
}

/// The methods `role` may send to `env`, after the guard rails.
pub fn allowed_methods(role: Option<Role>, kind: EnvironmentKind, guard: &GuardRails) -> Vec<String> {
    let Some(role) = role.filter(|r| can_see(Some(*r), kind)) else { return Vec::new() };
    ALL_METHODS
        .iter()
        .filter(|m| is_read_only_method(m) || (role_may_write(role, kind) && !guard.read_only))
        .filter(|m| guard.allowed_methods.as_ref().is_none_or(|allowed| allowed.iter().any(|a| a == *m)))
        .map(|m| (*m).to_owned())
        .collect()
}

pub fn guard_view(role: Option<Role>, env: &Environment) -> GuardView {
    GuardView {
        methods: allowed_methods(role, env.kind, &env.guard),
        confirm_writes: env.guard.confirm_writes,
        read_only: env.guard.read_only,
    }
}

/// Why a request may not be sent; `Ok` when it may.
pub fn check(role: Option<Role>, env: &Environment, method: &str, confirm: Option<&str>) -> Result<(), ConsoleError> {
    let label = &env.label;
    if !can_see(role, env.kind) {
        return Err(ConsoleError::Forbidden(format!("you have no access to {label}")));
    }
    let write = !is_read_only_method(method);
    if write && env.guard.read_only {
        return Err(ConsoleError::Forbidden(format!("{label} is read-only: {method} is refused for everyone")));
    }
    if let Some(allowed) = &env.guard.allowed_methods {
        if !allowed.iter().any(|m| m == method) {
            return Err(ConsoleError::Forbidden(format!(
                "{label} accepts only {} from the console; {method} is refused",
                allowed.join(", ")
            )));
        }
    }
    if write {
        if let Some(role) = role.filter(|r| !role_may_write(*r, env.kind)) {
            return Err(ConsoleError::Forbidden(format!(
                "your role ({}) may only read in {label}; {method} needs {}",
                role.as_str(),
                if env.kind == EnvironmentKind::Production { "an admin" } else { "an operator or admin" }
            )));
        }
        if env.guard.confirm_writes && confirm.map(str::trim) != Some(env.id.as_str()) {
            return Err(ConsoleError::ConfirmationRequired(format!(
                "{label} confirms writes: type {:?} to send this {method}",
                env.id
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientAuth, Target, Timeouts};
    use std::time::Duration;

    fn env(kind: EnvironmentKind, guard: GuardRails) -> Environment {
        Environment {
            id: kind.as_str().into(),
            label: kind.as_str().into(),
            kind,
            colour: String::new(),
            target: Target::Simulator,
            scope: None,
            client_auth: ClientAuth::SecretPost,
            refresh_skew: Duration::ZERO,
            timeouts: Timeouts { connect: Duration::ZERO, request: Duration::ZERO, token: Duration::ZERO },
            max_response_bytes: 0,
            guard,
            live_spec: None,
        }
    }

    /// The whole role × environment × method matrix, with no guard rails besides production's confirmation.
    #[test]
    fn the_role_environment_method_matrix_is_as_documented() {
        use EnvironmentKind::*;
        use Role::*;
        // (role, kind, method, allowed)
        let expected = [
            (Viewer, Simulator, "GET", true),
            (Viewer, Simulator, "POST", false),
            (Viewer, Sandbox, "GET", true),
            (Viewer, Sandbox, "DELETE", false),
            (Viewer, Production, "GET", false),
            (Viewer, Production, "POST", false),
            (Operator, Simulator, "POST", true),
            (Operator, Sandbox, "GET", true),
            (Operator, Sandbox, "PATCH", true),
            (Operator, Production, "GET", true),
            (Operator, Production, "POST", false),
            (Operator, Production, "DELETE", false),
            (Admin, Sandbox, "DELETE", true),
            (Admin, Production, "GET", true),
            (Admin, Production, "POST", true),
            (Admin, Production, "PUT", true),
        ];
        for (role, kind, method, allowed) in expected {
            let e = env(kind, GuardRails { confirm_writes: kind == Production, ..GuardRails::default() });
            let confirm = Some(e.id.as_str());
            let outcome = check(Some(role), &e, method, confirm);
            assert_eq!(outcome.is_ok(), allowed, "{role:?} {kind:?} {method}: {outcome:?}");
            assert_eq!(
                allowed_methods(Some(role), kind, &e.guard).iter().any(|m| m == method),
                allowed,
                "the UI's method list agrees for {role:?} {kind:?} {method}"
            );
        }
        assert!(check(None, &env(Sandbox, GuardRails::default()), "GET", None).is_err(), "no role, no access");
    }

    #[test]
    fn production_writes_need_the_environment_id_typed() {
        let e = env(EnvironmentKind::Production, GuardRails { confirm_writes: true, ..GuardRails::default() });
        for confirm in [None, Some(""), Some("Production "), Some("sandbox")] {
            let error = check(Some(Role::Admin), &e, "POST", confirm).unwrap_err();
            assert_eq!(error.status_code(), 428, "{confirm:?}");
            assert!(error.to_string().contains("type \"production\""), "{error}");
        }
        assert!(check(Some(Role::Admin), &e, "POST", Some("production")).is_ok());
        assert!(check(Some(Role::Admin), &e, "GET", None).is_ok(), "reads need no confirmation");
    }

    #[test]
    fn read_only_and_allowed_methods_bind_even_admins() {
        let read_only = env(EnvironmentKind::Sandbox, GuardRails { read_only: true, ..GuardRails::default() });
        assert_eq!(check(Some(Role::Admin), &read_only, "POST", None).unwrap_err().status_code(), 403);
        assert!(check(Some(Role::Admin), &read_only, "GET", None).is_ok());
        let limited = env(
            EnvironmentKind::Sandbox,
            GuardRails { allowed_methods: Some(vec!["GET".into(), "POST".into()]), ..GuardRails::default() },
        );
        assert!(check(Some(Role::Admin), &limited, "POST", None).is_ok());
        let error = check(Some(Role::Admin), &limited, "DELETE", None).unwrap_err();
        assert!(error.to_string().contains("accepts only GET, POST"), "{error}");
        assert_eq!(allowed_methods(Some(Role::Admin), EnvironmentKind::Sandbox, &limited.guard), ["GET", "POST"]);
    }
}
