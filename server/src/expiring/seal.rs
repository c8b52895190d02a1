//! AES-256-GCM sealing of values kept in the shared store, so a Redis dump shows no original.
//!
//! A sealed value is `1` (format version), the key id (4 bytes), a random 96-bit nonce and the
//! ciphertext with its tag. The key id lets a later key rotation tell which key sealed a value;
//! today a value sealed under another key reads as gone. The associated data binds a value to its
//! key name and owner, so a value copied under another id or owner does not open.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::config::VaultKey;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 12;

#[derive(Clone)]
pub struct Seal {
    cipher: Aes256Gcm,
    key_id: [u8; 4],
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal").field("key_id", &hex::encode(self.key_id)).finish_non_exhaustive()
    }
}

impl Seal {
    pub fn new(key: &VaultKey) -> Self {
        let digest = Sha256::new_with_prefix(b"a55-console vault key id\0").chain_update(key.bytes()).finalize();
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(&digest[..4]);
        Self { cipher: Aes256Gcm::new(key.bytes().into()), key_id }
    }

    /// The key's id in hex, for the start-up log (it says which key, nothing of it).
    pub fn key_id(&self) -> String {
        hex::encode(self.key_id)
    }

    pub fn seal(&self, plain: &[u8], bound_to: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self.cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: bound_to }).ok()?;
        let mut out = Vec::with_capacity(HEADER + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&self.key_id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The plain value; `None` for another format, another key, another binding or tampering.
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < HEADER || sealed[0] != VERSION || sealed[1..5] != self.key_id {
            return None;
        }
        let nonce = Nonce::from_slice(&sealed[5..HEADER]);
        self.cipher.decrypt(nonce, Payload { msg: &sealed[HEADER..], aad: bound_to }).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> VaultKey {
        VaultKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_binding_and_never_shows_the_plaintext() {
        let seal = Seal::new(&key(7));
        let sealed = seal.seal(b"s3cr3t-value", b"vault:abc:ana").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"s3cr3t-value"));
        assert_ne!(seal.seal(b"s3cr3t-value", b"vault:abc:ana").unwrap(), sealed, "a fresh nonce each time");
        assert_eq!(seal.open(&sealed, b"vault:abc:ana").unwrap(), b"s3cr3t-value");
        assert!(seal.open(&sealed, b"vault:abc:bruno").is_none(), "bound to its owner");
        assert!(Seal::new(&key(8)).open(&sealed, b"vault:abc:ana").is_none(), "another key");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(seal.open(&tampered, b"vault:abc:ana").is_none());
        assert!(format!("{seal:?}").contains(&seal.key_id()));
    }
}
