//! A bidirectional stream handle.
//!
//! Sends are copied once per batch and written into the connection on the calling thread, which also sends the
//! packets that are due (see `driver`); each send is reported with a SendCompleted event once quinn-proto holds all
//! of it, at once when flow control allows. Reads hand quinn-proto's received chunks to managed code in batches,
//! without copying, for the duration of one callback on the endpoint's I/O thread.

use std::sync::Arc;

use quinn_proto::VarInt;

use crate::config::MeshQuicBytes;
use crate::counters::{self, Live};
use crate::driver::Conn;
use crate::error::{Error, Result, Status};

/// What `mesh_quic_connection_open_stream` and StreamAccepted events hand out.
/// Dropping it resets a send side that was never finished and stops reading.
pub struct StreamHandle {
    conn: Arc<Conn>,
    key: u64,
    _live: Live,
}

impl StreamHandle {
    pub fn new(conn: Arc<Conn>, key: u64) -> Self {
        Self { conn, key, _live: Live::new(&counters::STREAM_HANDLES) }
    }

    pub fn start(&self, token: u64) -> Result<()> {
        self.conn.start_stream(self.key, token)
    }

    /// Copies `buffers` into one batch and writes it; `fin` finishes the send side after it.
    ///
    /// # Safety
    /// Every buffer must be valid for the duration of the call.
    pub unsafe fn send(&self, buffers: &[MeshQuicBytes], fin: bool, token: u64) -> Result<()> {
        let mut total = 0usize;
        for b in buffers {
            total = total.saturating_add(b.len);
        }
        let max = self.conn.io.settings.max_send_batch_bytes;
        if total > max {
            return Err(Error::new(Status::InvalidArgument, format!("send batch of {total} bytes exceeds the maximum of {max}")));
        }
        let mut data = Vec::with_capacity(total);
        for b in buffers {
            // SAFETY: the caller guarantees every buffer for the duration of the call.
            data.extend_from_slice(unsafe { b.as_slice() }?);
        }
        self.conn.send(self.key, data, fin, token)
    }

    pub fn resume_reading(&self) {
        self.conn.resume_reading(self.key);
    }

    pub fn abort(&self, code: u64) -> Result<()> {
        let code = VarInt::from_u64(code).map_err(|_| Error::new(Status::InvalidArgument, "error code above 2^62"))?;
        self.conn.abort_stream(self.key, code)
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.conn.release_stream(self.key);
    }
}
