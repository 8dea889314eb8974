//! The endpoint configuration passed across the ABI, and the quinn/rustls configuration built from it.

use std::ffi::c_void;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quinn_proto::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::error::{Error, Result, Status};
use crate::events::EventCallback;
use crate::verify::{PeerVerifier, PIN_LEN};

/// Defaults applied when a numeric field of `MeshQuicConfig` is 0.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_KEEP_ALIVE_INTERVAL_MS: u64 = 5_000;
pub const DEFAULT_MAX_SEND_BATCH_BYTES: u32 = 16 * 1024 * 1024;
pub const DEFAULT_MAX_BIDI_STREAMS: u32 = 100;
pub const DEFAULT_STREAM_RECEIVE_WINDOW: u32 = 1024 * 1024;
pub const DEFAULT_RECEIVE_BATCH_CHUNKS: u32 = 64;
/// The longest `MeshQuicConfig::receive_spin_us` accepted: 10 ms.
pub const MAX_RECEIVE_SPIN_US: u32 = 10_000;

/// The largest UDP payload an endpoint sends (the upper bound of quinn's path MTU discovery) and accepts from peers.
///
/// quinn's default, 1,452 bytes, suits Ethernet. Loopback and jumbo-frame links carry larger datagrams, and fewer,
/// larger packets mean less work per message (packet headers, encryption, acknowledgements, loss tracking): on
/// loopback, 8 concurrent senders went from 62–65 % to 78–80 % of TCP's throughput with 64-byte messages and from
/// 52–63 % to 74–79 % with 1 KiB ones, build against build (docs/benchmarks.md, "Larger datagrams"). Where the path's MTU is smaller, the
/// discovery settles lower; its probes that do not fit fail without harm.
///
/// Not higher: quinn hands up to `QUINN_MAX_TRANSMIT_SEGMENTS` datagrams to one GSO `sendmsg`, Linux refuses a send
/// of more than 65,507 bytes with EMSGSIZE, and quinn-udp drops a send that fails with EMSGSIZE as if it were a
/// failed MTU probe. With 7,000 bytes a bulk transfer lost a quarter of its packets that way, and benchmark
/// connections stalled until a request timed out.
pub const MAX_UDP_PAYLOAD_SIZE: u16 = 6_144;

/// Datagrams quinn 0.11 puts into one transmit at most (its private `MAX_TRANSMIT_SEGMENTS`).
pub const QUINN_MAX_TRANSMIT_SEGMENTS: usize = 10;

/// The largest UDP send Linux accepts over IPv4 (65,535 minus the IP and UDP headers).
const MAX_UDP_SEND_BYTES: usize = 65_507;

const _: () = assert!(MAX_UDP_PAYLOAD_SIZE as usize * QUINN_MAX_TRANSMIT_SEGMENTS <= MAX_UDP_SEND_BYTES);

/// Bit of `MeshQuicConfig::flags`: accept incoming connections (needs a certificate and key).
pub const FLAG_ACCEPT_INCOMING: u32 = 1;

/// A borrowed byte range; valid for the duration of the call it is passed to.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MeshQuicBytes {
    pub ptr: *const u8,
    pub len: usize,
}

impl MeshQuicBytes {
    /// # Safety
    /// `ptr` must point at `len` readable bytes (or be null with `len == 0`) for the returned lifetime.
    pub unsafe fn as_slice<'a>(&self) -> Result<&'a [u8]> {
        if self.len == 0 {
            return Ok(&[]);
        }
        if self.ptr.is_null() {
            return Err(Error::new(Status::InvalidArgument, "null pointer with a non-zero length"));
        }
        // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
        Ok(unsafe { std::slice::from_raw_parts(self.ptr, self.len) })
    }

    /// # Safety
    /// As `as_slice`.
    pub unsafe fn as_str<'a>(&self, what: &str) -> Result<&'a str> {
        // SAFETY: as this function's contract.
        std::str::from_utf8(unsafe { self.as_slice() }?).map_err(|_| Error::new(Status::InvalidArgument, format!("{what} is not UTF-8")))
    }
}

/// Everything an endpoint needs, in one struct. Field order is part of the ABI; `size` must be
/// `sizeof(MeshQuicConfig)` so a mismatched caller is refused rather than misread.
#[repr(C)]
pub struct MeshQuicConfig {
    pub size: u32,
    /// `FLAG_ACCEPT_INCOMING` or 0.
    pub flags: u32,
    /// UTF-8 "ip:port" to bind, e.g. "127.0.0.1:0" or "[::]:4433".
    pub bind_address: MeshQuicBytes,
    /// This node's certificate chain, leaf first: PEM (one or more certificates) or one DER certificate.
    /// May be empty for a client-only endpoint (a server that requires client certificates refuses it).
    pub cert_chain: MeshQuicBytes,
    /// The leaf's private key: PEM (PKCS#8, SEC1 or PKCS#1) or PKCS#8 DER.
    pub private_key: MeshQuicBytes,
    /// The cluster CA(s) both sides are verified against: PEM (one or more) or one DER certificate.
    pub trusted_ca: MeshQuicBytes,
    /// The one ALPN protocol id spoken, e.g. "mesh/1".
    pub alpn: MeshQuicBytes,
    /// Close a connection after this long without traffic (0: 30 s).
    pub idle_timeout_ms: u64,
    /// Send keep-alives this often so idle connections stay open (0: 5 s).
    pub keep_alive_interval_ms: u64,
    /// Largest number of bytes one `mesh_quic_stream_send` call accepts, i.e. the largest frame
    /// batch the framing layer may write at once (0: 16 MiB).
    pub max_send_batch_bytes: u32,
    /// Concurrent bidirectional streams a peer may open (0: 100).
    pub max_bidi_streams: u32,
    /// Flow-control window per stream, in bytes (0: 1 MiB).
    pub stream_receive_window: u32,
    /// Most received chunks handed over in one StreamData callback (0: 64).
    pub receive_batch_chunks: u32,
    /// Receives every event of this endpoint; required.
    pub callback: Option<EventCallback>,
    /// Passed back to `callback` untouched.
    pub context: *mut c_void,
    /// SHA-256 thumbprints (32 bytes each, concatenated) of peer leaf certificates accepted without
    /// a chain to `trusted_ca`; may be empty.
    pub pinned_sha256: MeshQuicBytes,
    /// How long the I/O thread keeps looking for datagrams after its last work before it sleeps, in microseconds, at
    /// most `MAX_RECEIVE_SPIN_US` (0: it sleeps at once). See `Settings::receive_spin`.
    pub receive_spin_us: u32,
}

/// The per-endpoint limits the background tasks need.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub max_send_batch_bytes: usize,
    pub receive_batch_chunks: usize,
    /// How long the I/O thread stays awake, yielding its core between looks at the socket, after it last received a
    /// datagram or drove a connection. A peer that sends within it finds the thread awake, so its `sendmsg` wakes
    /// nobody: on a busy node each wake-up (a futex or `ppoll` return, and across cores an inter-processor interrupt,
    /// dear in a virtual machine) costs more than the looks. An idle endpoint sleeps after this long.
    pub receive_spin: std::time::Duration,
}

/// The validated, parsed form of a `MeshQuicConfig`.
pub struct EndpointSetup {
    pub bind: SocketAddr,
    pub server: Option<quinn_proto::ServerConfig>,
    pub client: quinn_proto::ClientConfig,
    pub settings: Settings,
    pub callback: EventCallback,
    pub context: *mut c_void,
}

fn or_default<T: PartialEq + Default>(value: T, default: T) -> T {
    if value == T::default() {
        default
    } else {
        value
    }
}

fn is_pem(data: &[u8]) -> bool {
    data.iter().position(|b| !b.is_ascii_whitespace()).is_some_and(|i| data[i..].starts_with(b"-----BEGIN"))
}

fn config_error(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidConfig, message)
}

fn parse_certs(data: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    if !is_pem(data) {
        return Ok(vec![CertificateDer::from(data.to_vec())]);
    }
    let certs = CertificateDer::pem_slice_iter(data)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| config_error(format!("{what}: invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(format!("{what}: no CERTIFICATE block in the PEM")));
    }
    Ok(certs)
}

fn parse_key(data: &[u8]) -> Result<PrivateKeyDer<'static>> {
    if is_pem(data) {
        PrivateKeyDer::from_pem_slice(data).map_err(|e| config_error(format!("private key: invalid PEM: {e}")))
    } else {
        Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(data.to_vec())))
    }
}

fn transport(config: &MeshQuicConfig) -> Result<Arc<quinn_proto::TransportConfig>> {
    let idle = Duration::from_millis(or_default(config.idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS));
    let keep_alive = Duration::from_millis(or_default(config.keep_alive_interval_ms, DEFAULT_KEEP_ALIVE_INTERVAL_MS));
    let mut t = quinn_proto::TransportConfig::default();
    t.max_idle_timeout(Some(quinn_proto::IdleTimeout::try_from(idle).map_err(|e| config_error(format!("idle timeout: {e}")))?))
        .keep_alive_interval(Some(keep_alive))
        .max_concurrent_bidi_streams(quinn_proto::VarInt::from_u32(or_default(config.max_bidi_streams, DEFAULT_MAX_BIDI_STREAMS)))
        .max_concurrent_uni_streams(quinn_proto::VarInt::from_u32(0))
        .stream_receive_window(quinn_proto::VarInt::from_u32(or_default(config.stream_receive_window, DEFAULT_STREAM_RECEIVE_WINDOW)))
        .datagram_receive_buffer_size(None);
    let mut mtu = quinn_proto::MtuDiscoveryConfig::default();
    mtu.upper_bound(MAX_UDP_PAYLOAD_SIZE);
    t.mtu_discovery_config(Some(mtu));
    Ok(Arc::new(t))
}

/// The endpoint-wide quinn settings: what every endpoint accepts from its peers.
pub fn endpoint_config() -> quinn_proto::EndpointConfig {
    let mut config = quinn_proto::EndpointConfig::default();
    config.max_udp_payload_size(MAX_UDP_PAYLOAD_SIZE).expect("MAX_UDP_PAYLOAD_SIZE is within 1,200..=65,527");
    config
}

impl MeshQuicConfig {
    /// # Safety
    /// Every `MeshQuicBytes` of `self` must be valid for the duration of the call.
    pub unsafe fn parse(&self) -> Result<EndpointSetup> {
        if self.size as usize != std::mem::size_of::<MeshQuicConfig>() {
            return Err(Error::new(
                Status::InvalidArgument,
                format!("MeshQuicConfig size {} != {}: managed and native library disagree", self.size, std::mem::size_of::<MeshQuicConfig>()),
            ));
        }
        let callback = self.callback.ok_or_else(|| Error::new(Status::InvalidArgument, "callback is required"))?;
        // SAFETY: the caller guarantees every byte range for the duration of the call.
        let (bind, alpn, chain, key, cas, pins) = unsafe {
            (
                self.bind_address.as_str("bind address")?,
                self.alpn.as_slice()?,
                self.cert_chain.as_slice()?,
                self.private_key.as_slice()?,
                self.trusted_ca.as_slice()?,
                self.pinned_sha256.as_slice()?,
            )
        };
        if pins.len() % PIN_LEN != 0 {
            return Err(config_error("pinned thumbprints must be 32-byte SHA-256 digests"));
        }
        let pins: Vec<[u8; PIN_LEN]> = pins
            .chunks_exact(PIN_LEN)
            .map(|c| {
                let mut pin = [0u8; PIN_LEN];
                pin.copy_from_slice(c);
                pin
            })
            .collect();
        let bind: SocketAddr = bind
            .parse()
            .map_err(|e| Error::new(Status::InvalidArgument, format!("bind address: {e}")))?;
        if self.receive_spin_us > MAX_RECEIVE_SPIN_US {
            return Err(config_error(format!("receive spin must be at most {MAX_RECEIVE_SPIN_US} µs")));
        }
        let alpn = alpn.to_vec();
        if alpn.is_empty() || alpn.len() > 255 {
            return Err(config_error("ALPN protocol id must be 1 to 255 bytes"));
        }
        let chain = parse_certs(chain, "certificate chain")?;
        let key = if key.is_empty() { None } else { Some(parse_key(key)?) };
        if chain.is_empty() != key.is_none() {
            return Err(config_error("certificate chain and private key go together"));
        }
        let cas = parse_certs(cas, "trusted CA")?;
        if cas.is_empty() && pins.is_empty() {
            return Err(config_error("a trusted CA or a pinned thumbprint is required: both sides of a connection are verified"));
        }
        let mut roots = RootCertStore::empty();
        for ca in cas {
            roots.add(ca).map_err(|e| config_error(format!("trusted CA: {e}")))?;
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let transport = transport(self)?;

        let tls = |e: rustls::Error| config_error(format!("TLS: {e}"));
        // Mutual TLS: the peer must present a chain to the cluster CA or a pinned certificate (no anonymous clients).
        let webpki_clients = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| config_error(format!("client verifier: {e}")))?,
            )
        };
        let verifier = Arc::new(PeerVerifier::new(roots, pins, provider.clone(), webpki_clients));
        let client_builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let mut client_tls = match (&key, chain.is_empty()) {
            (Some(key), false) => client_builder.with_client_auth_cert(chain.clone(), key.clone_key()).map_err(tls)?,
            _ => client_builder.with_no_client_auth(),
        };
        client_tls.alpn_protocols = vec![alpn.clone()];
        let client_crypto = QuicClientConfig::try_from(client_tls).map_err(|e| config_error(format!("TLS: {e}")))?;
        let mut client = quinn_proto::ClientConfig::new(Arc::new(client_crypto));
        client.transport_config(transport.clone());

        let server = if self.flags & FLAG_ACCEPT_INCOMING != 0 {
            let key = key.ok_or_else(|| config_error("accepting connections needs a certificate chain and private key"))?;
            let mut server_tls = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(tls)?
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key)
                .map_err(tls)?;
            server_tls.alpn_protocols = vec![alpn];
            let server_crypto = QuicServerConfig::try_from(server_tls).map_err(|e| config_error(format!("TLS: {e}")))?;
            let mut server = quinn_proto::ServerConfig::with_crypto(Arc::new(server_crypto));
            server.transport_config(transport);
            Some(server)
        } else {
            None
        };

        Ok(EndpointSetup {
            bind,
            server,
            client,
            settings: Settings {
                max_send_batch_bytes: or_default(self.max_send_batch_bytes, DEFAULT_MAX_SEND_BATCH_BYTES) as usize,
                receive_batch_chunks: or_default(self.receive_batch_chunks, DEFAULT_RECEIVE_BATCH_CHUNKS) as usize,
                receive_spin: std::time::Duration::from_micros(self.receive_spin_us.into()),
            },
            callback,
            context: self.context,
        })
    }
}
