//! Purpose-bound signed tokens and the signing key ring.
//!
//! A token is `<kid>.<random>.<mac>`: `random` is 32 bytes from the OS CSPRNG (256 bits),
//! `mac` is HMAC-SHA256 over `kid.random` under a key derived for one purpose from the
//! key-ring secret `kid`, all base64url without padding. A token of one purpose never
//! verifies as another (ASVS 9.2.2/9.2.3), and the MAC is checked in constant time before
//! anything else happens (Keycloak CVE-2026-1529). The database stores only
//! [`hash_token`] of a token, never the token.
//!
//! Key rotation: the first key of the ring signs; every key verifies until it is removed.

use crate::config::{Config, ConfigError, MIN_SECRET_BYTES, SecretKeyConfig};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use invitegate_core::api::MAX_TOKEN_LENGTH;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of randomness in every token.
pub const TOKEN_RANDOM_BYTES: usize = 32;

/// What a token may be used for; each purpose has its own derived key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An invitation link.
    Invitation,
    /// An email-verification link.
    EmailVerification,
    /// A password-reset link.
    PasswordReset,
    /// A link proving that a signed-in account owns the address an invitation names.
    AcceptanceProof,
    /// Access-token (JWT) signing.
    Access,
    /// Refresh tokens (opaque, looked up by hash).
    Refresh,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
            Self::AcceptanceProof => "acceptance_proof",
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// Why a token was refused. Callers answer one uniform error for all of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not of the token shape, or too long.
    #[error("malformed token")]
    Malformed,
    /// Signed with a key id the ring does not hold.
    #[error("unknown key")]
    UnknownKey,
    /// The MAC does not verify (wrong key, wrong purpose, altered).
    #[error("bad signature")]
    BadSignature,
}

#[derive(Clone)]
struct Key {
    id: String,
    secret: Vec<u8>,
}

/// The signing keys, newest first.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

/// Fills a buffer from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// SHA-256 of a token or key, hex: the only form stored in the database.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A fresh opaque secret (refresh tokens, API keys): 32 random bytes, base64url.
pub fn opaque_secret() -> String {
    B64.encode(random_bytes::<TOKEN_RANDOM_BYTES>())
}

impl KeyRing {
    /// Builds a ring from `{id, secret}` pairs, newest first. Errors when empty, when a secret
    /// is shorter than 32 bytes, or when ids repeat.
    pub fn new(keys: &[SecretKeyConfig]) -> Result<Self, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError("`secret_keys` is empty".into()));
        }
        let mut ring = Vec::new();
        for k in keys {
            if k.secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError(format!(
                    "`secret_keys` key {:?} is shorter than {MIN_SECRET_BYTES} bytes",
                    k.id
                )));
            }
            if ring.iter().any(|r: &Key| r.id == k.id) {
                return Err(ConfigError(format!(
                    "`secret_keys` id {:?} appears twice",
                    k.id
                )));
            }
            ring.push(Key {
                id: k.id.clone(),
                secret: k.secret.as_bytes().to_vec(),
            });
        }
        Ok(Self { keys: ring })
    }

    /// The ring from the configuration, or from `<data_dir>/secrets.toml`, which is generated
    /// (mode 0600) with one fresh key when absent.
    pub fn load_or_generate(config: &Config) -> anyhow::Result<Self> {
        if !config.secret_keys.is_empty() {
            return Ok(Self::new(&config.secret_keys)?);
        }
        let path = config.data_dir.join("secrets.toml");
        let file = if path.exists() {
            SecretsFile::read(&path)?
        } else {
            let file = SecretsFile {
                keys: vec![SecretsFile::fresh_key()],
            };
            file.write(&path)?;
            tracing::info!(path = %path.display(), "generated signing secret");
            file
        };
        Ok(Self::new(&file.keys)?)
    }

    /// The id of the key that signs new tokens.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    fn purpose_key(&self, key: &Key, purpose: Purpose) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&key.secret).expect("HMAC takes any key length");
        mac.update(b"invitegate/v1/purpose/");
        mac.update(purpose.label().as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn mac(&self, key: &Key, purpose: Purpose, signed: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.purpose_key(key, purpose))
            .expect("HMAC takes any key length");
        mac.update(signed.as_bytes());
        mac
    }

    /// Mints a token for `purpose` with the newest key.
    pub fn issue(&self, purpose: Purpose) -> String {
        let key = &self.keys[0];
        let signed = format!(
            "{}.{}",
            key.id,
            B64.encode(random_bytes::<TOKEN_RANDOM_BYTES>())
        );
        let tag = self.mac(key, purpose, &signed).finalize().into_bytes();
        format!("{signed}.{}", B64.encode(tag))
    }

    /// Verifies a token's shape, key and MAC (constant-time) for `purpose`. Reads nothing else.
    pub fn verify(&self, purpose: Purpose, token: &str) -> Result<(), TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LENGTH || !token.is_ascii() {
            return Err(TokenError::Malformed);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (kid, random) = signed.split_once('.').ok_or(TokenError::Malformed)?;
        let random = B64.decode(random).map_err(|_| TokenError::Malformed)?;
        let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
        if random.len() != TOKEN_RANDOM_BYTES || tag.len() != 32 {
            return Err(TokenError::Malformed);
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or(TokenError::UnknownKey)?;
        self.mac(key, purpose, signed)
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)
    }

    /// The HS256 key for access tokens signed under key `kid` (derived for [`Purpose::Access`]).
    pub fn access_key(&self, kid: &str) -> Option<[u8; 32]> {
        self.keys
            .iter()
            .find(|k| k.id == kid)
            .map(|k| self.purpose_key(k, Purpose::Access))
    }
}

/// `<data_dir>/secrets.toml`: the generated key ring, newest key first.
#[derive(Debug, Serialize, Deserialize)]
pub struct SecretsFile {
    /// Keys, newest first.
    pub keys: Vec<SecretKeyConfig>,
}

impl SecretsFile {
    /// A new key named after today's date and a random suffix.
    pub fn fresh_key() -> SecretKeyConfig {
        let suffix = hash_token(&opaque_secret());
        SecretKeyConfig {
            id: format!("k{}{}", chrono::Utc::now().format("%Y%m%d"), &suffix[..4]),
            secret: opaque_secret(),
        }
    }

    /// Reads and parses the file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Writes the file with mode 0600, creating its directory.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = format!(
            "# Invitegate signing keys. The first key signs new tokens; the others only verify.\n\
             # Rotate with `invitegate keys rotate`; remove an old key to invalidate its tokens.\n{}",
            toml::to_string(self)?
        );
        let tmp = path.with_extension("toml.tmp");
        write_private(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;

/// Writes `bytes` to `path` with mode 0600 (owner only) and syncs it, creating its directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
