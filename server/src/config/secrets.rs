//! Reading a secret named by configuration: the name of an env var holding it, or a file holding
//! only it. Never the secret itself, which the TOML refuses (`MisplacedSecret`).

use std::path::Path;

use secrecy::SecretString;

use super::validate::EnvSource;

/// Where one secret may come from, with the keys to name in problems.
pub(super) struct SecretSource<'a> {
    pub env_key: &'a str,
    pub env_var: Option<&'a str>,
    pub file_key: &'a str,
    pub file: Option<&'a Path>,
}

/// The secret, trimmed; `None` with a problem when both or a broken source are given, and `None`
/// without one when neither is (the caller decides whether that is allowed).
pub(super) fn read_secret(
    source: &SecretSource<'_>,
    env: &dyn EnvSource,
    problems: &mut Vec<String>,
) -> Option<SecretString> {
    let SecretSource { env_key, env_var, file_key, file } = *source;
    match (env_var, file) {
        (None, None) => None,
        (Some(_), Some(_)) => {
            problems.push(format!("set only one of {env_key} and {file_key}"));
            None
        }
        (Some(var), None) => match env.var(var) {
            Some(value) if !value.trim().is_empty() => Some(SecretString::from(value.trim().to_owned())),
            _ => {
                problems.push(format!("{env_key} names env var {var}, which is not set or empty"));
                None
            }
        },
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(value) if !value.trim().is_empty() => Some(SecretString::from(value.trim().to_owned())),
            Ok(_) => {
                problems.push(format!("{file_key} = {} is empty", path.display()));
                None
            }
            Err(error) => {
                problems.push(format!("{file_key} = {} cannot be read: {error}", path.display()));
                None
            }
        },
    }
}
