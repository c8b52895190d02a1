//! Argon2id password hashes: made by `hash-password`, checked in config, verified at login.

use std::sync::{Mutex, OnceLock, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;

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

/// Verifies `password` against `phc` (the comparison is constant-time), in `memory`, which is
/// grown to the hash's memory cost and wiped afterwards, so the caller can use it again.
pub fn verify_in(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let cost = |name: &str| parsed.params.get_decimal(name);
    let (Some(m), Some(t), Some(p)) = (cost("m"), cost("t"), cost("p")) else { return false };
    let Ok(params) = Params::new(m, t, p, Some(expected.len())) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    let argon2 = Argon2::new(Algorithm::Argon2id, version, params.clone());
    let hashed = argon2.hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut computed,
        &mut memory[..params.block_count()],
    );
    // What the passes left in memory is derived from the password: it does not stay there.
    memory.fill(Block::default());
    hashed.is_ok() && bool::from(computed.as_slice().ct_eq(expected.as_bytes()))
}

/// Verifies `password` against `phc` with memory of its own (for tools and tests).
pub fn verify(password: &str, phc: &str) -> bool {
    verify_in(password, phc, &mut Vec::new())
}

/// At most one verification per core runs at once, each in a buffer kept for the next one: a burst
/// of logins queues instead of holding 19 MiB per login (memory the allocator would keep).
struct Verifiers {
    permits: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

fn verifiers() -> &'static Verifiers {
    static VERIFIERS: OnceLock<Verifiers> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Verifiers { permits: Semaphore::new(cores), buffers: Mutex::new(Vec::new()) }
    })
}

/// `verify` for the login path: off the async threads, at most one per core, memory reused.
pub async fn verify_capped(password: String, phc: String) -> bool {
    let verifiers = verifiers();
    let Ok(_permit) = verifiers.permits.acquire().await else { return false };
    let mut memory = verifiers.buffers.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
    let work = tokio::task::spawn_blocking(move || {
        let verified = verify_in(&password, &phc, &mut memory);
        (verified, memory)
    });
    match work.await {
        Ok((verified, memory)) => {
            verifiers.buffers.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
            verified
        }
        Err(_) => false,
    }
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
    fn a_reused_buffer_verifies_the_right_password_and_refuses_a_wrong_one_and_is_left_wiped() {
        let phc = hash("correct horse battery staple").unwrap();
        let mut memory = Vec::new();
        assert!(verify_in("correct horse battery staple", &phc, &mut memory));
        assert_eq!(memory.len(), 19 * 1024, "the hash's memory cost, in 1 KiB blocks");
        assert!(memory.iter().all(|block| block.as_ref().iter().all(|word| *word == 0)), "wiped after use");
        assert!(!verify_in("correct horse battery stapler", &phc, &mut memory));
        assert!(verify_in("correct horse battery staple", &phc, &mut memory), "the same buffer serves again");
        assert!(!verify_in("x", "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$aGVsbG8", &mut memory), "argon2i refused");
        assert!(!verify_in("x", "not a hash", &mut memory));
    }

    #[tokio::test]
    async fn concurrent_verifications_all_answer_correctly_through_the_capped_pool() {
        let phc = hash("correct horse battery staple").unwrap();
        let checks = (0..6).map(|i| {
            let phc = phc.clone();
            let password = if i % 2 == 0 { "correct horse battery staple" } else { "wrong" };
            tokio::spawn(verify_capped(password.to_owned(), phc))
        });
        let results: Vec<bool> = futures::future::join_all(checks).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(results, [true, false, true, false, true, false]);
        let kept = verifiers().buffers.lock().unwrap().len();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert!(kept <= cores, "at most one buffer per core is kept: {kept}");
    }

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
