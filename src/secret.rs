//! Secrets at rest: UTM API tokens are stored sealed with ChaCha20-Poly1305
//! and only ever come back out as a [`Secret`], which refuses to print
//! itself. There is deliberately no `Serialize` for [`Secret`], so a token
//! cannot leak into a JSON export or a rendered page by accident.
//!
//! Sealed text format: `v2:` + base64(nonce (12 bytes) || ciphertext || tag),
//! sealed with associated data that names what the value belongs to (a WAF
//! node of a stack, the lab's state): a sealed value copied onto another
//! node's row does not open there. `v1:` values (no associated data) are
//! still read, and are sealed again as `v2:` the next time they are saved.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand::RngCore as _;
use zeroize::Zeroizing;

/// Environment variable holding the key: base64 of 32 random bytes.
pub const KEY_ENV: &str = "HAWAF_SECRET_KEY";
/// Name of the key file kept next to the database when [`KEY_ENV`] is unset.
pub const KEY_FILE_NAME: &str = "hawaf.key";

const VERSION_1: &str = "v1:";
const VERSION_2: &str = "v2:";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{source_name} is not valid base64 ({reason}); generate a key with `head -c 32 /dev/urandom | base64`")]
    KeyNotBase64 { source_name: String, reason: String },
    #[error(
        "{source_name} decodes to {len} bytes but the key must be exactly 32 bytes; generate one with `head -c 32 /dev/urandom | base64`"
    )]
    KeyWrongLength { source_name: String, len: usize },
    #[error("the key file {path} can be read by group or others (mode {mode:o}); fix it with `chmod 600 {path}`")]
    KeyFileTooOpen { path: String, mode: u32 },
    #[error("cannot use the key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "with PostgreSQL, every replica must seal secrets with the same key: set HAWAF_SECRET_KEY (base64 of 32 bytes; after `hawaf db migrate-from-sqlite`, the contents of the hawaf.key file beside the SQLite database)"
    )]
    KeyNeededForPostgres,
    #[error("the stored secret is in an unknown format (expected a `v1:` or `v2:` prefix)")]
    UnknownFormat,
    #[error("the stored secret is corrupt: {0}")]
    Malformed(&'static str),
    /// Wrong key or tampered ciphertext: AEAD cannot tell the two apart, and
    /// saying which would help an attacker anyway.
    #[error("the stored secret cannot be decrypted: wrong key or tampered data")]
    Decrypt,
}

/// A secret value in memory. Prints as `[redacted]` and is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The plain value, for the one place that must send it (HTTP Basic auth).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    pub fn from_key(key: &[u8; KEY_LEN]) -> Self {
        Self { cipher: ChaCha20Poly1305::new(key.into()) }
    }

    /// The key from [`KEY_ENV`] if set, else from `hawaf.key` in the
    /// database's directory (created on first use).
    pub fn from_env_or_key_file(database_path: &Path) -> Result<Self, SecretError> {
        let env = std::env::var(KEY_ENV).ok();
        Self::load(env.as_deref(), &key_file_path(database_path))
    }

    /// The key for the database at `location`: beside an SQLite file as
    /// above; for PostgreSQL only from [`KEY_ENV`], since replicas on other
    /// hosts could not share a key file and would seal with different keys.
    pub fn for_location(location: &crate::store::Location) -> Result<Self, SecretError> {
        match location {
            crate::store::Location::File(path) => Self::from_env_or_key_file(path),
            crate::store::Location::Postgres(_) => match std::env::var(KEY_ENV) {
                Ok(v) if !v.trim().is_empty() => Self::from_base64(&v, KEY_ENV),
                _ => Err(SecretError::KeyNeededForPostgres),
            },
        }
    }

    /// [`Self::from_env_or_key_file`] with the environment value passed in,
    /// so callers and tests never need to mutate the process environment.
    /// An empty value counts as unset, as `HAWAF_SECRET_KEY=` in a unit file
    /// usually means "not configured".
    pub fn load(env_value: Option<&str>, key_file: &Path) -> Result<Self, SecretError> {
        match env_value {
            Some(v) if !v.trim().is_empty() => Self::from_base64(v, KEY_ENV),
            _ => Self::from_key_file(key_file),
        }
    }

    /// A key given as base64 of 32 bytes; `source_name` says where it came
    /// from in the error message.
    pub fn from_base64(encoded: &str, source_name: &str) -> Result<Self, SecretError> {
        let bytes =
            Zeroizing::new(B64.decode(encoded.trim()).map_err(|e| SecretError::KeyNotBase64 {
                source_name: source_name.to_string(),
                reason: e.to_string(),
            })?);
        let key: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| SecretError::KeyWrongLength { source_name: source_name.to_string(), len: bytes.len() })?,
        );
        Ok(Self::from_key(&key))
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh random key.
    pub fn from_key_file(path: &Path) -> Result<Self, SecretError> {
        let shown = path.display().to_string();
        let file_err = |source| SecretError::KeyFile { path: shown.clone(), source };
        match create_key_file(path) {
            Ok(sb) => return Ok(sb),
            // Another process (or an earlier run) made it first: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(file_err(e)),
        }
        check_private(path)?;
        let text = Zeroizing::new(fs::read_to_string(path).map_err(file_err)?);
        Self::from_base64(&text, &format!("the key file {shown}"))
    }

    /// Seals `plaintext` for `context` (what it belongs to, e.g.
    /// `waf-node:3:ha-utm-left`); only the same context opens it.
    pub fn seal_for(&self, plaintext: &str, context: &str) -> String {
        format!("{VERSION_2}{}", B64.encode(self.encrypt(plaintext, context.as_bytes())))
    }

    /// Seals without a context: the `v1:` format, kept for its tests and
    /// for reading what older hawafs stored.
    pub fn seal(&self, plaintext: &str) -> String {
        format!("{VERSION_1}{}", B64.encode(self.encrypt(plaintext, b"")))
    }

    fn encrypt(&self, plaintext: &str, aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = Nonce::from(nonce);
        // ChaCha20-Poly1305 encryption only fails for messages beyond
        // 2^38 bytes, far past anything sealed here.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad })
            .expect("plaintext within ChaCha20-Poly1305 limits");
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value sealed for `context` (`v2:`), or an older `v1:` one.
    pub fn open_for(&self, sealed: &str, context: &str) -> Result<Secret, SecretError> {
        let sealed = sealed.trim();
        if let Some(body) = sealed.strip_prefix(VERSION_2) {
            return self.decrypt(body, context.as_bytes());
        }
        self.open(sealed)
    }

    /// Opens a `v1:` value (sealed without a context).
    pub fn open(&self, sealed: &str) -> Result<Secret, SecretError> {
        let body = sealed.trim().strip_prefix(VERSION_1).ok_or(SecretError::UnknownFormat)?;
        self.decrypt(body, b"")
    }

    fn decrypt(&self, body: &str, aad: &[u8]) -> Result<Secret, SecretError> {
        let raw = B64.decode(body).map_err(|_| SecretError::Malformed("not base64"))?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Malformed("too short"));
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::Malformed("bad nonce"))?;
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad })
                .map_err(|_| SecretError::Decrypt)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| SecretError::Malformed("not UTF-8"))?;
        Ok(Secret::new(text))
    }
}

/// `hawaf.key` in the directory of the database file.
pub fn key_file_path(database_path: &Path) -> PathBuf {
    database_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new(".")).join(KEY_FILE_NAME)
}

fn create_key_file(path: &Path) -> io::Result<SecretBox> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    rand::rng().fill_bytes(key.as_mut());
    let encoded = Zeroizing::new(B64.encode(key.as_ref()));
    let mut opts = fs::OpenOptions::new();
    // create_new: never truncate a key that sealed existing tokens.
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Set at creation so there is no window with the umask's mode.
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    file.write_all(encoded.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created a new secret key file");
    Ok(SecretBox::from_key(&key))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta =
        fs::metadata(path).map_err(|source| SecretError::KeyFile { path: path.display().to_string(), source })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::KeyFileTooOpen { path: path.display().to_string(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), SecretError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sb(byte: u8) -> SecretBox {
        SecretBox::from_key(&[byte; KEY_LEN])
    }

    #[test]
    fn a_sealed_token_opens_to_the_same_text() {
        let b = sb(7);
        let sealed = b.seal("s3cr3t-token");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(b.open(&sealed).expect("opens").expose(), "s3cr3t-token");
    }

    #[test]
    fn a_value_sealed_for_one_node_does_not_open_for_another() {
        let b = sb(7);
        let sealed = b.seal_for("node-token", "waf-node:1:ha-utm-left");
        assert!(sealed.starts_with("v2:"));
        assert_eq!(b.open_for(&sealed, "waf-node:1:ha-utm-left").unwrap().expose(), "node-token");
        assert!(matches!(b.open_for(&sealed, "waf-node:1:ha-utm-right"), Err(SecretError::Decrypt)));
        assert!(matches!(b.open_for(&sealed, "waf-node:2:ha-utm-left"), Err(SecretError::Decrypt)));
        // What an older hawaf stored still opens, whatever the context.
        let old = b.seal("old-token");
        assert_eq!(b.open_for(&old, "waf-node:1:ha-utm-left").unwrap().expose(), "old-token");
    }

    #[test]
    fn sealing_twice_uses_a_fresh_nonce() {
        let b = sb(7);
        assert_ne!(b.seal("same"), b.seal("same"));
    }

    #[test]
    fn tampering_is_detected() {
        let b = sb(7);
        let sealed = b.seal("token");
        let mut raw = B64.decode(&sealed[3..]).expect("base64");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = format!("v1:{}", B64.encode(&raw));
        assert!(matches!(b.open(&tampered), Err(SecretError::Decrypt)));
        raw[last] ^= 1;
        raw[NONCE_LEN] ^= 0x80;
        let tampered = format!("v1:{}", B64.encode(&raw));
        assert!(matches!(b.open(&tampered), Err(SecretError::Decrypt)));
    }

    #[test]
    fn a_wrong_key_fails() {
        let sealed = sb(1).seal("token");
        assert!(matches!(sb(2).open(&sealed), Err(SecretError::Decrypt)));
    }

    #[test]
    fn unknown_versions_and_garbage_are_refused() {
        let b = sb(1);
        assert!(matches!(b.open("v9:AAAA"), Err(SecretError::UnknownFormat)));
        assert!(matches!(b.open("plain"), Err(SecretError::UnknownFormat)));
        assert!(matches!(b.open("v1:!!"), Err(SecretError::Malformed(_))));
        assert!(matches!(b.open("v1:AAAA"), Err(SecretError::Malformed(_))));
    }

    #[test]
    fn secrets_never_print_their_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(format!("{:?}", sb(3)), "SecretBox([redacted])");
    }

    #[test]
    fn the_env_key_is_used_when_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join(KEY_FILE_NAME);
        let env = B64.encode([9u8; KEY_LEN]);
        let b = SecretBox::load(Some(&env), &key_file).expect("env key");
        assert!(!key_file.exists(), "an env key must not create a key file");
        assert_eq!(sb(9).open(&b.seal("t")).expect("same key").expose(), "t");
    }

    #[test]
    fn a_bad_env_key_gives_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join(KEY_FILE_NAME);
        let err = SecretBox::load(Some("not base64!"), &key_file).expect_err("bad base64");
        assert!(matches!(err, SecretError::KeyNotBase64 { .. }));
        assert!(err.to_string().contains(KEY_ENV), "{err}");

        let short = B64.encode([1u8; 16]);
        let err = SecretBox::load(Some(&short), &key_file).expect_err("short key");
        assert!(matches!(err, SecretError::KeyWrongLength { len: 16, .. }));
        let msg = err.to_string();
        assert!(msg.contains(KEY_ENV) && msg.contains("16 bytes") && msg.contains("32"), "{msg}");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_0600_and_reused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("hawaf.db");
        let key_file = key_file_path(&db);
        assert_eq!(key_file, dir.path().join("hawaf.key"));

        let first = SecretBox::load(None, &key_file).expect("creates");
        let mode = fs::metadata(&key_file).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = first.seal("token");

        let second = SecretBox::load(Some(""), &key_file).expect("reuses");
        assert_eq!(second.open(&sealed).expect("same key").expose(), "token");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join(KEY_FILE_NAME);
        SecretBox::from_key_file(&key_file).expect("creates");
        fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = SecretBox::from_key_file(&key_file).expect_err("too open");
        assert!(matches!(err, SecretError::KeyFileTooOpen { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_corrupt_key_file_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join(KEY_FILE_NAME);
        SecretBox::from_key_file(&key_file).expect("creates");
        fs::write(&key_file, "c2hvcnQ=\n").expect("overwrite");
        let err = SecretBox::from_key_file(&key_file).expect_err("short");
        assert!(err.to_string().contains("hawaf.key"), "{err}");
    }
}
