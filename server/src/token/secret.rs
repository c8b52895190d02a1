//! Where a client secret comes from, and how a rotated secret is noticed: the file is re-read only when
//! its modification time or size changed, so the check costs one `stat` per token lookup.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A client secret that may change while the console runs.
pub enum SecretProvider {
    /// Fixed for the life of the process (env var, generated simulator secret); a config reload
    /// builds a new provider, whose different version drops the cached token.
    Static { secret: SecretString, version: u64 },
    /// A file holding only the secret, re-read when it changes on disk.
    File(FileSecret),
}

pub struct FileSecret {
    path: PathBuf,
    current: Mutex<Current>,
}

struct Current {
    stamp: Option<(SystemTime, u64)>,
    secret: SecretString,
    version: u64,
}

/// A version identifies a secret without revealing it: 64 bits of a domain-separated SHA-256.
fn version_of(secret: &str) -> u64 {
    let digest = Sha256::new().chain_update(b"a55-console client secret version\0").chain_update(secret).finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

impl SecretProvider {
    pub fn fixed(secret: SecretString) -> Self {
        let version = version_of(secret.expose_secret());
        Self::Static { secret, version }
    }

    /// Reads the file now (start-up has validated it); later changes are picked up by `current`.
    pub fn file(path: PathBuf, initial: SecretString) -> Self {
        let stamp = stamp(&path);
        let version = version_of(initial.expose_secret());
        Self::File(FileSecret { path, current: Mutex::new(Current { stamp, secret: initial, version }) })
    }

    /// The secret to send now and its version. A file that became unreadable or empty keeps the last
    /// good secret (a rotation tool may be halfway through writing it); the problem is logged.
    pub fn current(&self) -> (SecretString, u64) {
        match self {
            Self::Static { secret, version } => (secret.clone(), *version),
            Self::File(file) => file.current(),
        }
    }

    /// Only the version: the cheap check made on every token lookup.
    pub fn version(&self) -> u64 {
        match self {
            Self::Static { version, .. } => *version,
            Self::File(file) => file.current().1,
        }
    }
}

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

impl FileSecret {
    fn current(&self) -> (SecretString, u64) {
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = stamp(&self.path);
        if now.is_some() && now != current.stamp {
            current.stamp = now;
            match std::fs::read_to_string(&self.path) {
                Ok(text) if !text.trim().is_empty() => {
                    let secret = text.trim();
                    let version = version_of(secret);
                    if version != current.version {
                        tracing::info!(path = %self.path.display(), "client secret file changed; the cached token is dropped");
                        current.secret = SecretString::from(secret.to_owned());
                        current.version = version;
                    }
                }
                Ok(_) => {
                    tracing::warn!(path = %self.path.display(), "client secret file is empty; keeping the previous secret")
                }
                Err(error) => {
                    tracing::warn!(path = %self.path.display(), %error, "client secret file cannot be read; keeping the previous secret")
                }
            }
        }
        (current.secret.clone(), current.version)
    }
}

impl std::fmt::Debug for SecretProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Static { .. } => f.write_str("SecretProvider::Static([redacted])"),
            Self::File(file) => write!(f, "SecretProvider::File({}, [redacted])", file.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(contents: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("a55-secret-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_rewritten_secret_file_gives_a_new_secret_and_version() {
        let path = temp_file("first-secret\n");
        let provider = SecretProvider::file(path.clone(), SecretString::from("first-secret".to_owned()));
        let (secret, v1) = provider.current();
        assert_eq!(secret.expose_secret(), "first-secret");
        assert_eq!(provider.version(), v1, "unchanged file, unchanged version");
        // A different length changes the stamp even on file systems with coarse modification times.
        std::fs::write(&path, "second-secret-value\n").unwrap();
        let (secret, v2) = provider.current();
        assert_eq!(secret.expose_secret(), "second-secret-value");
        assert_ne!(v1, v2);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_emptied_or_removed_file_keeps_the_last_good_secret() {
        let path = temp_file("kept");
        let provider = SecretProvider::file(path.clone(), SecretString::from("kept".to_owned()));
        let v1 = provider.version();
        std::fs::write(&path, "  \n").unwrap();
        assert_eq!(provider.current().0.expose_secret(), "kept");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(provider.version(), v1);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let provider = SecretProvider::fixed(SecretString::from("hunter2".to_owned()));
        assert!(!format!("{provider:?}").contains("hunter2"));
        assert_ne!(provider.version(), SecretProvider::fixed(SecretString::from("hunter3".to_owned())).version());
    }
}
