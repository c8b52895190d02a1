//! Argon2id password hashes: made by `hash-password`, checked in config, verified at login.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// Shorter passwords are refused by `hash-password`.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new argon2id hash (PHC string) with the crate's default cost (19 MiB, 2 passes, 1 lane: OWASP's minimum).
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether a config value is an argon2id PHC string; the error completes "password_hash …".
pub fn check_phc(phc: &str) -> Result<(), &'static str> {
    let parsed = PasswordHash::new(phc).map_err(|_| "is not an argon2id hash ($argon2id$v=19$m=…)")?;
    if parsed.algorithm != argon2::Algorithm::Argon2id.ident() {
        return Err("uses another algorithm; only argon2id is accepted");
    }
    Ok(())
}

/// Verifies `password` against `phc` (the comparison inside is constant-time).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Verified against when the name is unknown, so an unknown name costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_is_argon2id() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(check_phc(&phc).is_ok());
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn other_algorithms_and_garbage_are_refused_in_config() {
        assert!(check_phc("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA").is_err());
        assert!(check_phc("plaintext-password").is_err());
        assert!(check_phc("").is_err());
    }
}
