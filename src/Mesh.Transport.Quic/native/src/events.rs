//! Events handed to managed code in batches through one registered callback per endpoint.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use crate::error::Status;

/// What an event reports. The numbers are part of the ABI.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A peer's handshake completed; `handle` is a new connection (call `mesh_quic_connection_start`).
    ConnectionAccepted = 1,
    /// `mesh_quic_endpoint_connect` finished; `token` is its token, `handle` the connection on success.
    ConnectCompleted = 2,
    /// A peer's handshake failed on this (server) endpoint; `status`, `aux` and the message tell why.
    IncomingFailed = 3,
    /// The connection `token` closed; `status`, `aux` (QUIC error code) and the message tell why.
    ConnectionClosed = 4,
    /// The peer opened a stream on connection `token`; `handle` is it (call `mesh_quic_stream_start`).
    StreamAccepted = 5,
    /// Bytes received on stream `token`; valid only during the callback.
    StreamData = 6,
    /// The peer finished stream `token`: no more data will come.
    StreamFinished = 7,
    /// Stream `token` failed: reset by the peer or its connection broke.
    StreamAborted = 8,
    /// Sends on stream `token` have been written to quinn (or failed: `status`); `aux` is the sum of
    /// their send tokens (one event may report several sends queued together).
    SendCompleted = 9,
}

/// One event. `data`/`len` point at received bytes (StreamData) or at a UTF-8 message (failures);
/// both are valid only for the duration of the callback. Field order is part of the ABI.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MeshQuicEvent {
    pub kind: u32,
    pub status: i32,
    pub token: u64,
    pub aux: u64,
    pub handle: *mut c_void,
    pub data: *const u8,
    pub len: usize,
}

impl MeshQuicEvent {
    pub fn new(kind: EventKind, token: u64) -> Self {
        Self { kind: kind as u32, status: Status::Ok as i32, token, aux: 0, handle: ptr::null_mut(), data: ptr::null(), len: 0 }
    }

    pub fn failed(kind: EventKind, token: u64, status: Status, aux: u64, message: &str) -> Self {
        Self { status: status as i32, aux, data: message.as_ptr(), len: message.len(), ..Self::new(kind, token) }
    }
}

/// The callback: `(context, events, count) -> int`. Returning `PAUSE_READING` from a batch of
/// StreamData events stops reading that stream until `mesh_quic_stream_resume_reading`.
pub type EventCallback = unsafe extern "C" fn(context: *mut c_void, events: *const MeshQuicEvent, count: usize) -> i32;

pub const PAUSE_READING: i32 = 1;

thread_local! {
    /// The sinks whose callback this thread is running, innermost last (a callback may send, and a send reports its
    /// completion through the same sink before it returns).
    static IN_CALLBACK: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Delivers events to one endpoint's callback until the endpoint is freed.
///
/// The I/O thread and sending threads call `emit` concurrently; each holds the read lock for the duration of
/// its callback. `close` takes the write lock, so once it returns no callback is running or will
/// run again and managed code may release the callback's context.
pub struct Sink {
    callback: EventCallback,
    context: usize,
    open: RwLock<bool>,
    /// Set by a `close` called from inside a callback, which cannot wait for its own read lock.
    closing: AtomicBool,
}

impl Sink {
    pub fn new(callback: EventCallback, context: *mut c_void) -> Self {
        Self { callback, context: context as usize, open: RwLock::new(true), closing: AtomicBool::new(false) }
    }

    /// Calls the callback with `events`; `None` when the endpoint is closed and nothing was delivered
    /// (the caller then still owns any handle the events carry).
    pub fn emit(&self, events: &[MeshQuicEvent]) -> Option<i32> {
        if events.is_empty() {
            return Some(0);
        }
        if self.closing.load(Ordering::Acquire) {
            return None;
        }
        // Inside this sink's own callback the read lock is held already; taking it again could wait behind a
        // `close` on another thread that waits for the outer callback.
        let _open = if self.in_callback() {
            None
        } else {
            let open = self.open.read().unwrap_or_else(|p| p.into_inner());
            if !*open || self.closing.load(Ordering::Acquire) {
                return None;
            }
            Some(open)
        };
        let me = self as *const Sink as usize;
        IN_CALLBACK.with(|c| c.borrow_mut().push(me));
        // SAFETY: managed code registered this function pointer and context for the endpoint's
        // lifetime; `close` waits for this read lock before they are released.
        let result = unsafe { (self.callback)(self.context as *mut c_void, events.as_ptr(), events.len()) };
        IN_CALLBACK.with(|c| c.borrow_mut().pop());
        Some(result)
    }

    /// Whether this thread is inside this sink's callback.
    pub fn in_callback(&self) -> bool {
        let me = self as *const Sink as usize;
        IN_CALLBACK.with(|c| c.borrow().contains(&me))
    }

    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        if self.in_callback() {
            // Called from the callback itself: waiting for the write lock would deadlock on our
            // own read lock. `closing` stops new callbacks; see mesh_quic_endpoint_free.
            return;
        }
        *self.open.write().unwrap_or_else(|p| p.into_inner()) = false;
    }
}
