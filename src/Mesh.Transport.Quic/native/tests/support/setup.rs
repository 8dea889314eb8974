//! What the ABI test and the crate's own tests share: certificates made with rcgen (a cluster CA and one node
//! certificate it signs, for "localhost", usable as server and client) and an endpoint configuration that uses them.
//! The including module imports `EventCallback`, `MeshQuicBytes`, `MeshQuicConfig` and `FLAG_ACCEPT_INCOMING`.

use std::ptr;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};

use super::{EventCallback, MeshQuicBytes, MeshQuicConfig, FLAG_ACCEPT_INCOMING};

pub struct Pki {
    pub ca_pem: String,
    pub node_pem: String,
    pub node_key_pem: String,
}

pub fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let node_key = KeyPair::generate().unwrap();
    let mut node_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    node_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let node = node_params.signed_by(&node_key, &issuer).unwrap();
    Pki { ca_pem: ca.pem(), node_pem: node.pem(), node_key_pem: node_key.serialize_pem() }
}

pub fn bytes(data: &[u8]) -> MeshQuicBytes {
    MeshQuicBytes { ptr: data.as_ptr(), len: data.len() }
}

/// An endpoint on 127.0.0.1 (any port) with the node certificate of `pki`, trusting its CA; 0 keeps a default.
pub fn config(pki: &Pki, accept: bool, stream_receive_window: u32, callback: EventCallback) -> MeshQuicConfig {
    MeshQuicConfig {
        size: std::mem::size_of::<MeshQuicConfig>() as u32,
        flags: if accept { FLAG_ACCEPT_INCOMING } else { 0 },
        bind_address: bytes(b"127.0.0.1:0"),
        cert_chain: bytes(pki.node_pem.as_bytes()),
        private_key: bytes(pki.node_key_pem.as_bytes()),
        trusted_ca: bytes(pki.ca_pem.as_bytes()),
        alpn: bytes(b"mesh/1"),
        idle_timeout_ms: 0,
        keep_alive_interval_ms: 0,
        max_send_batch_bytes: 0,
        max_bidi_streams: 0,
        stream_receive_window,
        receive_batch_chunks: 0,
        callback: Some(callback),
        context: ptr::null_mut(),
        pinned_sha256: bytes(b""),
        receive_spin_us: 0,
    }
}
