//! The OpenID Provider's signing keys: an RSA 2048 key (RS256, which every relying party
//! library verifies, OpenID Connect Core §15.1) and an Ed25519 key (EdDSA, RFC 8037), kept in
//! `<data_dir>/oidc-keys.json` (mode 0600), generated on first start. Signing uses aws-lc-rs
//! through `jsonwebtoken`, whose RSA is constant-time (not exposed to the Marvin attack that
//! the pure-Rust `rsa` crate is). `invitegate keys rotate` adds fresh keys and retires the
//! old ones, which stay in the JWKS until every token they signed has expired; a running
//! server notices the new file within one jobs interval.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// The file name under the data directory.
pub const FILE_NAME: &str = "oidc-keys.json";

/// One key as stored: its private key as PKCS#8 DER, base64.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    alg: String,
    private_key_pkcs8: String,
    created_at: DateTime<Utc>,
    /// Signs from this time on (published before, so that relying parties' cached key sets
    /// know it by then).
    #[serde(default)]
    not_before: Option<DateTime<Utc>>,
    /// Signs until this time; published for the overlap after it.
    retired_at: Option<DateTime<Utc>>,
}

/// The key file: newest keys first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyFile {
    keys: Vec<StoredKey>,
}

struct LoadedKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
    not_before: Option<DateTime<Utc>>,
    retired_at: Option<DateTime<Utc>>,
}

impl LoadedKey {
    fn signs_at(&self, now: DateTime<Utc>) -> bool {
        self.not_before.is_none_or(|t| t <= now) && self.retired_at.is_none_or(|r| r > now)
    }
}

/// The keys in use: each live one signs, every published one verifies.
pub struct KeySet {
    keys: Vec<LoadedKey>,
    jwks: JwkSet,
}

fn fresh(alg: Algorithm) -> anyhow::Result<StoredKey> {
    use aws_lc_rs::encoding::AsDer;
    let (pkcs8, prefix) = match alg {
        Algorithm::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der = pair
                .as_der()
                .map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
            (der.as_ref().to_vec(), "rs")
        }
        Algorithm::EdDSA => {
            let pair = aws_lc_rs::signature::Ed25519KeyPair::generate()
                .map_err(|_| anyhow::anyhow!("Ed25519 key generation failed"))?;
            let doc = pair
                .to_pkcs8v1()
                .map_err(|_| anyhow::anyhow!("Ed25519 key encoding failed"))?;
            (doc.as_ref().to_vec(), "ed")
        }
        other => anyhow::bail!("unsupported signing algorithm {other:?}"),
    };
    let now = Utc::now();
    let suffix = &crate::tokens::hash_token(&crate::tokens::opaque_secret())[..8];
    Ok(StoredKey {
        kid: format!("{prefix}-{}-{suffix}", now.format("%Y%m%d")),
        alg: format!("{alg:?}"),
        private_key_pkcs8: B64.encode(pkcs8),
        created_at: now,
        not_before: None,
        retired_at: None,
    })
}

fn load_key(stored: &StoredKey) -> anyhow::Result<LoadedKey> {
    let der = B64
        .decode(&stored.private_key_pkcs8)
        .context("private_key_pkcs8 is not base64")?;
    let (alg, encoding) = match stored.alg.as_str() {
        "RS256" => {
            // jsonwebtoken's aws-lc backend takes the PKCS#1 key that PKCS#8 wraps.
            let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice())
                .map_err(|e| anyhow::anyhow!("not a PKCS#8 key: {e}"))?;
            (
                Algorithm::RS256,
                EncodingKey::from_rsa_der(info.private_key),
            )
        }
        "EdDSA" => (Algorithm::EdDSA, EncodingKey::from_ed_der(&der)),
        other => anyhow::bail!("unsupported key algorithm {other:?}"),
    };
    let mut jwk = Jwk::from_encoding_key(&encoding, alg)
        .map_err(|e| anyhow::anyhow!("key {}: {e}", stored.kid))?;
    jwk.common.key_id = Some(stored.kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(match alg {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        _ => KeyAlgorithm::EdDSA,
    });
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(LoadedKey {
        kid: stored.kid.clone(),
        alg,
        encoding,
        decoding,
        jwk,
        not_before: stored.not_before,
        retired_at: stored.retired_at,
    })
}

impl KeyFile {
    /// Reads the file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
    }

    /// Writes the file (mode 0600) through a temporary file, so a reader never sees half.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)?;
        crate::tokens::write_private(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// A file with one fresh RS256 and one fresh EdDSA key.
    pub fn generate() -> anyhow::Result<Self> {
        Ok(Self {
            keys: vec![fresh(Algorithm::RS256)?, fresh(Algorithm::EdDSA)?],
        })
    }

    /// Puts fresh keys first, published at once and signing from `now + activation` (when
    /// relying parties' cached key sets know them), when the live keys retire; drops keys
    /// retired longer than `overlap` ago (every token they signed has expired). Returns the
    /// new kids.
    pub fn rotate(
        &mut self,
        now: DateTime<Utc>,
        overlap: Duration,
        activation: Duration,
    ) -> anyhow::Result<Vec<String>> {
        self.keys
            .retain(|k| k.retired_at.is_none_or(|r| r + overlap > now));
        for k in &mut self.keys {
            k.retired_at.get_or_insert(now + activation);
        }
        let mut new = vec![fresh(Algorithm::RS256)?, fresh(Algorithm::EdDSA)?];
        for k in &mut new {
            k.not_before = Some(now + activation);
        }
        let kids = new.iter().map(|k| k.kid.clone()).collect();
        self.keys.splice(0..0, new);
        Ok(kids)
    }

    fn load(&self, now: DateTime<Utc>, overlap: Duration) -> anyhow::Result<KeySet> {
        let keys = self
            .keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|r| r + overlap > now))
            .map(load_key)
            .collect::<anyhow::Result<Vec<_>>>()?;
        for alg in [Algorithm::RS256, Algorithm::EdDSA] {
            if !keys.iter().any(|k| k.alg == alg && k.retired_at.is_none()) {
                anyhow::bail!("no live {alg:?} key; run `invitegate keys rotate`");
            }
        }
        let jwks = JwkSet {
            keys: keys.iter().map(|k| k.jwk.clone()).collect(),
        };
        Ok(KeySet { keys, jwks })
    }
}

impl KeySet {
    /// The key that signs for `alg` now: its kid and private key.
    pub fn signing(&self, alg: Algorithm) -> (&str, &EncodingKey) {
        let now = Utc::now();
        let key = self
            .keys
            .iter()
            .find(|k| k.alg == alg && k.signs_at(now))
            .or_else(|| {
                self.keys
                    .iter()
                    .find(|k| k.alg == alg && k.retired_at.is_none())
            })
            .expect("a live key of each algorithm is checked at load");
        (&key.kid, &key.encoding)
    }

    /// The published key `kid` and its algorithm, live or retired.
    pub fn verifying(&self, kid: &str) -> Option<(Algorithm, &DecodingKey)> {
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| (k.alg, &k.decoding))
    }

    /// The JSON Web Key Set (RFC 7517 §5) of every published key.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

/// The key set of a running server, reloaded when the file changes.
pub struct SigningKeys {
    path: PathBuf,
    overlap: Duration,
    current: RwLock<(Option<SystemTime>, Arc<KeySet>)>,
}

impl SigningKeys {
    /// Loads `<data_dir>/oidc-keys.json`, generating it when absent. `overlap` is how long a
    /// retired key stays published: the longest lifetime of a token it signed.
    pub fn load_or_generate(data_dir: &Path, overlap: Duration) -> anyhow::Result<Self> {
        let path = data_dir.join(FILE_NAME);
        if !path.exists() {
            KeyFile::generate()?.write(&path)?;
            tracing::info!(path = %path.display(), "generated OpenID Connect signing keys");
        }
        let mtime = std::fs::metadata(&path)?.modified().ok();
        let set = KeyFile::read(&path)?.load(Utc::now(), overlap)?;
        Ok(Self {
            path,
            overlap,
            current: RwLock::new((mtime, Arc::new(set))),
        })
    }

    /// The current key set.
    pub fn get(&self) -> Arc<KeySet> {
        self.current.read().expect("not poisoned").1.clone()
    }

    /// Reloads the file when it changed since it was last read (after `keys rotate`), and
    /// drops retired keys past their overlap. A file that fails to load keeps the old set.
    pub fn reload_if_changed(&self) {
        let mtime = std::fs::metadata(&self.path)
            .ok()
            .and_then(|m| m.modified().ok());
        let loaded = self.current.read().expect("not poisoned").0;
        let result = KeyFile::read(&self.path).and_then(|f| f.load(Utc::now(), self.overlap));
        match result {
            Ok(set) => *self.current.write().expect("not poisoned") = (mtime, Arc::new(set)),
            Err(e) if mtime != loaded => {
                tracing::error!(error = %e, "could not reload the OpenID Connect signing keys")
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_keys_are_published_at_once_and_sign_only_after_the_activation_delay() {
        let mut file = KeyFile::generate().unwrap();
        let now = Utc::now();
        let before = file.load(now, Duration::hours(1)).unwrap();
        let (old_kid, _) = before.signing(Algorithm::RS256);
        let old_kid = old_kid.to_string();
        let new = file
            .rotate(now, Duration::hours(1), Duration::minutes(6))
            .unwrap();
        let set = file.load(now, Duration::hours(1)).unwrap();
        let published: Vec<_> = set
            .jwks()
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect();
        assert!(
            new.iter().all(|k| published.contains(k)),
            "new keys published at once"
        );
        assert!(published.contains(&old_kid));
        assert_eq!(
            set.signing(Algorithm::RS256).0,
            old_kid,
            "the old key signs meanwhile"
        );
        // Seven minutes later the new key signs and the old one is still published.
        let later = file
            .load(now + Duration::minutes(7), Duration::hours(1))
            .unwrap();
        assert!(later.verifying(&old_kid).is_some());
        let signing_later = later
            .keys
            .iter()
            .find(|k| k.alg == Algorithm::RS256 && k.signs_at(now + Duration::minutes(7)))
            .map(|k| k.kid.clone());
        assert!(signing_later.is_some_and(|k| new.contains(&k)));
        // Past the overlap the old key is gone.
        let much_later = file
            .load(now + Duration::hours(2), Duration::hours(1))
            .unwrap();
        assert!(much_later.verifying(&old_kid).is_none());
    }
}
