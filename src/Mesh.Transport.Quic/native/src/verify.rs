//! Peer certificate verification of both sides: a peer is accepted when its certificate chains to
//! one of the cluster CAs (webpki, validity dates included) or when the SHA-256 of its leaf is one of
//! the pinned thumbprints. The handshake signature is verified either way, so a pinned certificate
//! still proves possession of its key.
//!
//! Node names are not checked: nodes are identified by the cluster CA (or a pin), not by DNS names,
//! exactly as the managed TCP transport does; the managed side reads the peer's leaf afterwards
//! (`mesh_quic_connection_peer_certificate`) to apply the rest of its policy and name the peer.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, RootCertStore, SignatureScheme};

/// Length of one pinned thumbprint (SHA-256).
pub const PIN_LEN: usize = 32;

/// The SHA-256 of `data`, from the ring provider rustls already links (no extra dependency).
fn sha256(data: &[u8]) -> Vec<u8> {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    match suite.tls13() {
        Some(suite) => suite.common.hash_provider.hash(data).as_ref().to_vec(),
        None => Vec::new(),
    }
}

#[derive(Debug)]
pub struct PeerVerifier {
    roots: Arc<RootCertStore>,
    pins: Vec<[u8; PIN_LEN]>,
    provider: Arc<CryptoProvider>,
    /// The standard client verifier, for everything but pinned certificates; None without CAs
    /// (only pinned peers are accepted then).
    client: Option<Arc<dyn ClientCertVerifier>>,
}

impl PeerVerifier {
    pub fn new(
        roots: Arc<RootCertStore>,
        pins: Vec<[u8; PIN_LEN]>,
        provider: Arc<CryptoProvider>,
        client: Option<Arc<dyn ClientCertVerifier>>,
    ) -> Self {
        Self { roots, pins, provider, client }
    }

    fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        if self.pins.is_empty() {
            return false;
        }
        let digest = sha256(end_entity.as_ref());
        self.pins.iter().any(|pin| pin[..] == digest[..])
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self.is_pinned(end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.client.as_ref().map_or(&[], |c| c.root_hint_subjects())
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        if self.is_pinned(end_entity) {
            return Ok(ClientCertVerified::assertion());
        }
        match &self.client {
            Some(client) => client.verify_client_cert(end_entity, intermediates, now),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
