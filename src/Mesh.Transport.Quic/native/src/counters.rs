//! Process-wide counters of live native objects and bytes, for leak tests and diagnostics.

use std::sync::atomic::{AtomicI64, Ordering};

pub static ENDPOINT_HANDLES: AtomicI64 = AtomicI64::new(0);
pub static CONNECTION_HANDLES: AtomicI64 = AtomicI64::new(0);
pub static STREAM_HANDLES: AtomicI64 = AtomicI64::new(0);
pub static CONNECTION_TASKS: AtomicI64 = AtomicI64::new(0);
pub static STREAM_TASKS: AtomicI64 = AtomicI64::new(0);
pub static QUEUED_SEND_BYTES: AtomicI64 = AtomicI64::new(0);
pub static BYTES_SENT: AtomicI64 = AtomicI64::new(0);
pub static BYTES_RECEIVED: AtomicI64 = AtomicI64::new(0);

/// Snapshot handed to managed code by `mesh_quic_counters`. Field order is part of the ABI.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MeshQuicCounters {
    /// Endpoint handles created and not yet freed.
    pub endpoint_handles: i64,
    /// Connection handles handed out (events or calls) and not yet freed.
    pub connection_handles: i64,
    /// Stream handles handed out and not yet freed.
    pub stream_handles: i64,
    /// Background tasks serving a connection (accepting its streams); end when it closes.
    pub connection_tasks: i64,
    /// Background tasks serving a stream (its reads and writes); end when it is done.
    pub stream_tasks: i64,
    /// Bytes copied in by `mesh_quic_stream_send` and not yet written to quinn.
    pub queued_send_bytes: i64,
    /// Bytes written to streams since the library loaded.
    pub bytes_sent: i64,
    /// Bytes handed to the event callback since the library loaded.
    pub bytes_received: i64,
}

pub fn snapshot() -> MeshQuicCounters {
    MeshQuicCounters {
        endpoint_handles: ENDPOINT_HANDLES.load(Ordering::Acquire),
        connection_handles: CONNECTION_HANDLES.load(Ordering::Acquire),
        stream_handles: STREAM_HANDLES.load(Ordering::Acquire),
        connection_tasks: CONNECTION_TASKS.load(Ordering::Acquire),
        stream_tasks: STREAM_TASKS.load(Ordering::Acquire),
        queued_send_bytes: QUEUED_SEND_BYTES.load(Ordering::Acquire),
        bytes_sent: BYTES_SENT.load(Ordering::Acquire),
        bytes_received: BYTES_RECEIVED.load(Ordering::Acquire),
    }
}

/// Increments a counter now and decrements it when dropped, so every exit path is counted.
pub struct Live(&'static AtomicI64);

impl Live {
    pub fn new(counter: &'static AtomicI64) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Live(counter)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
