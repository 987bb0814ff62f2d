//! Trust on first use for the UTM's self-signed WebAdmin certificate.
//!
//! The wizard calls [`probe_fingerprint`] and shows the result to the
//! operator; once confirmed, the fingerprint becomes a [`Pin`] and every
//! later connection accepts exactly that certificate. There is no CA and no
//! hostname check: a UTM's self-signed certificate names whatever the
//! appliance was set up with, and the pin on the whole DER is stronger than
//! both. The handshake signature is still verified against the pinned
//! certificate's key, so a peer that merely replays the certificate fails.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::WafError;

/// SHA-256 of a DER end-entity certificate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex without separators: the stored form (and the lab's).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `AB:CD:…`, the form certificate viewers show, for the operator to compare.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a SHA-256 fingerprint is 64 hex digits, optionally separated by ':' (got {0:?})")]
pub struct BadFingerprint(String);

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    /// Accepts both `AB:CD:…` and plain hex, any case, as an operator may
    /// paste either from a certificate viewer.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: String = s.trim().chars().filter(|c| !matches!(c, ':' | ' ')).collect();
        let mut out = [0u8; 32];
        hex::decode_to_slice(&digits, &mut out).map_err(|_| BadFingerprint(s.to_string()))?;
        Ok(Self(out))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The certificate a node is trusted with: the operator-confirmed fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin(pub Fingerprint);

impl Pin {
    pub fn fingerprint(&self) -> Fingerprint {
        self.0
    }
}

impl From<Fingerprint> for Pin {
    fn from(fp: Fingerprint) -> Self {
        Self(fp)
    }
}

/// Carried inside the rustls error so the client can report both
/// fingerprints instead of a generic handshake failure.
#[derive(Debug, thiserror::Error)]
#[error("certificate fingerprint {got} does not match the pinned {expected}")]
pub(crate) struct PinMismatch {
    pub expected: Fingerprint,
    pub got: Fingerprint,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts exactly the pinned certificate.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    expected: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
    /// Last mismatch seen, for when the error chain loses the typed cause.
    last_mismatch: Mutex<Option<Fingerprint>>,
}

impl PinnedVerifier {
    pub(crate) fn new(pin: Pin, provider: &CryptoProvider) -> Self {
        Self {
            expected: pin.0,
            algorithms: provider.signature_verification_algorithms,
            last_mismatch: Mutex::new(None),
        }
    }

    pub(crate) fn take_mismatch(&self) -> Option<Fingerprint> {
        self.last_mismatch.lock().ok().and_then(|mut g| g.take())
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = Fingerprint::of_der(end_entity.as_ref());
        if got == self.expected {
            return Ok(ServerCertVerified::assertion());
        }
        if let Ok(mut slot) = self.last_mismatch.lock() {
            *slot = Some(got);
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch {
            expected: self.expected,
            got,
        })))))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Records whatever certificate is presented. Used only by
/// [`probe_fingerprint`], which sends no request and no credentials over the
/// connection: it exists to show the operator what to confirm.
#[derive(Debug)]
struct Capture {
    seen: Mutex<Option<Fingerprint>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of_der(end_entity.as_ref());
        if let Ok(mut slot) = self.seen.lock() {
            *slot = Some(fp);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// rustls client configuration that trusts only `pin`.
pub(crate) fn pinned_config(pin: Pin) -> Result<(rustls::ClientConfig, Arc<PinnedVerifier>), WafError> {
    let provider = provider();
    let verifier = Arc::new(PinnedVerifier::new(pin, &provider));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WafError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    Ok((config, verifier))
}

/// How long the probe may take in total (connect + handshake).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to the node, completes a TLS handshake and returns the SHA-256
/// of the certificate it presented, for the operator to confirm before it
/// is pinned.
pub async fn probe_fingerprint(base_url: &str) -> Result<Fingerprint, WafError> {
    probe_fingerprint_within(base_url, PROBE_TIMEOUT).await
}

pub async fn probe_fingerprint_within(base_url: &str, timeout: Duration) -> Result<Fingerprint, WafError> {
    let base = super::client::BaseUrl::parse(base_url)?;
    let provider = provider();
    let capture = Arc::new(Capture { seen: Mutex::new(None), algorithms: provider.signature_verification_algorithms });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WafError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let server_name = base.server_name()?;
    let addr = base.authority();
    let unreachable = |reason: String| WafError::Unreachable { url: base.to_string(), reason };
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect(&addr).await.map_err(|e| unreachable(e.to_string()))?;
        connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| WafError::Tls { url: base.to_string(), reason: e.to_string() })
    };
    let tls = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| unreachable(format!("no TLS handshake within {timeout:?}")))??;
    drop(tls);
    let seen = capture.seen.lock().ok().and_then(|g| *g);
    seen.ok_or_else(|| WafError::Tls { url: base.to_string(), reason: "the server presented no certificate".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_display_with_colons_and_parse_either_form() {
        let fp = Fingerprint::of_der(b"not really a certificate");
        let shown = fp.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(shown, shown.to_uppercase());
        assert_eq!(fp.hex().len(), 64);
        assert_eq!(shown.parse::<Fingerprint>(), Ok(fp));
        assert_eq!(fp.hex().parse::<Fingerprint>(), Ok(fp));
        assert_eq!(shown.to_lowercase().parse::<Fingerprint>(), Ok(fp));
        assert!("AB:CD".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
    }

    #[test]
    fn fingerprints_serialize_as_plain_hex() {
        let fp = Fingerprint::of_der(b"x");
        let json = serde_json::to_string(&fp).expect("serializes");
        assert_eq!(json, format!("\"{}\"", fp.hex()));
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).expect("parses"), fp);
    }
}
