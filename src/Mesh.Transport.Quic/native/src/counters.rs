//! Process-wide counters of live native objects, heap memory and bytes, for leak tests and diagnostics.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

pub static ENDPOINT_HANDLES: AtomicI64 = AtomicI64::new(0);
pub static CONNECTION_HANDLES: AtomicI64 = AtomicI64::new(0);
pub static STREAM_HANDLES: AtomicI64 = AtomicI64::new(0);
pub static CONNECTION_TASKS: AtomicI64 = AtomicI64::new(0);
pub static STREAM_TASKS: AtomicI64 = AtomicI64::new(0);
pub static QUEUED_SEND_BYTES: AtomicI64 = AtomicI64::new(0);
pub static BYTES_SENT: AtomicI64 = AtomicI64::new(0);
pub static BYTES_RECEIVED: AtomicI64 = AtomicI64::new(0);
pub static HEAP_BYTES: AtomicI64 = AtomicI64::new(0);
pub static HEAP_BLOCKS: AtomicI64 = AtomicI64::new(0);

/// The library's allocator: the system's, counting what is live, so a leak test can see native memory that handles
/// and tasks do not account for (a connection's buffers, a rustls session, a forgotten Vec). Two relaxed atomic adds
/// per allocation; every allocation of quinn-proto, rustls and this crate goes through it (the cdylib has its own
/// global allocator; the managed runtime's memory does not).
struct CountingAllocator;

// SAFETY: forwards every call to System unchanged; the counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds GlobalAlloc::alloc's contract, which System::alloc shares.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            counted(layout.size() as i64, 1);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for alloc.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            counted(layout.size() as i64, 1);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from this allocator (hence System) with this layout.
        unsafe { System.dealloc(ptr, layout) };
        counted(-(layout.size() as i64), -1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for dealloc; System keeps the block on failure, which leaves the counters right.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            counted(new_size as i64 - layout.size() as i64, 0);
        }
        new
    }
}

fn counted(bytes: i64, blocks: i64) {
    HEAP_BYTES.fetch_add(bytes, Ordering::Relaxed);
    HEAP_BLOCKS.fetch_add(blocks, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

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
    /// Heap bytes the library has allocated and not freed (its runtime's threads and caches included).
    pub heap_bytes: i64,
    /// Heap blocks the library has allocated and not freed.
    pub heap_blocks: i64,
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
        heap_bytes: HEAP_BYTES.load(Ordering::Relaxed),
        heap_blocks: HEAP_BLOCKS.load(Ordering::Relaxed),
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
