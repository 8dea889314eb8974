//! Status codes of the C ABI and the thread-local message of the last failed call.

use std::cell::RefCell;
use std::fmt;

/// Outcome of an ABI call or of an asynchronous operation reported in an event.
/// The numbers are part of the ABI: never renumber, only append.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    /// A null handle or pointer, a malformed address or server name, an oversized batch.
    InvalidArgument = 1,
    /// Certificates, private key, CA or transport limits that cannot be used.
    InvalidConfig = 2,
    /// The UDP socket could not be created or bound.
    Io = 3,
    /// The connection attempt could not start (e.g. the endpoint is shutting down).
    ConnectFailed = 4,
    /// TLS refused the peer: certificate not trusted or missing, no common ALPN, bad handshake.
    HandshakeFailed = 5,
    /// The peer closed the connection (application close; the event's `aux` holds its code).
    ConnectionClosed = 6,
    /// The connection broke: reset, protocol violation, or closed by the peer's transport.
    ConnectionLost = 7,
    /// The idle timeout elapsed without traffic from the peer.
    TimedOut = 8,
    /// The peer reset or stopped the stream (the event's `aux` holds its code).
    StreamAborted = 9,
    /// The object was closed locally before the operation completed.
    Closed = 10,
    /// A call the current state does not allow (e.g. starting a handle twice).
    InvalidState = 11,
    /// An internal failure of the library.
    Internal = 12,
    /// A Rust panic was caught at the ABI boundary.
    Panic = 13,
}

/// A failure: a status code plus a message for humans.
#[derive(Debug)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.status, self.message)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the message of a failed call for `mesh_quic_last_error` on the same thread.
pub fn set_last_error(message: &str) {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(message);
    });
}

/// Copies the last message (UTF-8, not terminated) into `buf` and returns its full length.
pub fn copy_last_error(buf: &mut [u8]) -> usize {
    LAST_ERROR.with(|m| {
        let m = m.borrow();
        let n = m.len().min(buf.len());
        buf[..n].copy_from_slice(&m.as_bytes()[..n]);
        m.len()
    })
}

/// TLS alerts travel as QUIC CRYPTO_ERROR codes 0x100..=0x1ff (RFC 9001, section 4.8).
fn is_crypto_code(code: u64) -> bool {
    (0x100..=0x1ff).contains(&code)
}

/// Status, QUIC error code and message of a connection failure.
pub fn classify_connection_error(e: &quinn_proto::ConnectionError) -> (Status, u64, String) {
    use quinn_proto::ConnectionError as E;
    let message = e.to_string();
    match e {
        E::VersionMismatch => (Status::HandshakeFailed, 0, message),
        E::TransportError(t) => {
            let code = u64::from(t.code);
            let status = if is_crypto_code(code) { Status::HandshakeFailed } else { Status::ConnectionLost };
            (status, code, message)
        }
        E::ConnectionClosed(c) => {
            let code = u64::from(c.error_code);
            let status = if is_crypto_code(code) { Status::HandshakeFailed } else { Status::ConnectionLost };
            (status, code, message)
        }
        E::ApplicationClosed(a) => (Status::ConnectionClosed, a.error_code.into_inner(), message),
        E::Reset => (Status::ConnectionLost, 0, message),
        E::TimedOut => (Status::TimedOut, 0, message),
        E::LocallyClosed => (Status::Closed, 0, message),
        E::CidsExhausted => (Status::Internal, 0, message),
    }
}

