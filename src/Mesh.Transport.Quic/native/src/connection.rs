//! A connection handle: managed code's reference to one connection of an endpoint.

use std::sync::Arc;

use quinn_proto::VarInt;

use crate::counters::{self, Live};
use crate::driver::Conn;
use crate::error::{Error, Result, Status};
use crate::stream::StreamHandle;

/// What ConnectCompleted / ConnectionAccepted events hand out. Dropping it closes the connection.
pub struct ConnectionHandle {
    conn: Arc<Conn>,
    _live: Live,
}

impl ConnectionHandle {
    pub fn new(conn: Arc<Conn>) -> Self {
        Self { conn, _live: Live::new(&counters::CONNECTION_HANDLES) }
    }

    /// Names an accepted connection's token; its events (and the peer's streams) are reported from then on.
    pub fn start(&self, token: u64) -> Result<()> {
        self.conn.start(token)
    }

    /// A new stream; it reaches the peer with its first bytes.
    pub fn open_stream(&self, token: u64) -> StreamHandle {
        let key = self.conn.open_stream(token);
        StreamHandle::new(self.conn.clone(), key)
    }

    /// The DER of certificate `index` of the chain the peer presented (0: its leaf, then the intermediates it
    /// sent), or empty past its end or if it presented none.
    pub fn peer_certificate(&self, index: usize) -> Vec<u8> {
        self.conn
            .lock()
            .proto
            .crypto_session()
            .peer_identity()
            .and_then(|identity| identity.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>().ok())
            .and_then(|chain| chain.get(index).map(|cert| cert.as_ref().to_vec()))
            .unwrap_or_default()
    }

    /// The peer's UDP address (the current one: QUIC follows a peer that migrates).
    pub fn remote_address(&self) -> std::net::SocketAddr {
        self.conn.lock().proto.remote_address()
    }

    /// quinn-proto's statistics of the connection, for tests.
    #[cfg(test)]
    pub fn stats(&self) -> quinn_proto::ConnectionStats {
        self.conn.lock().proto.stats()
    }

    pub fn close(&self, code: u64, reason: &[u8]) -> Result<()> {
        let code = VarInt::from_u64(code).map_err(|_| Error::new(Status::InvalidArgument, "error code above 2^62"))?;
        self.conn.close(code, reason);
        Ok(())
    }
}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        self.conn.release();
    }
}
