//! The datagram size of `config::MAX_UDP_PAYLOAD_SIZE`, tested through this library's own driver on loopback: path MTU
//! discovery reaches it, and full GSO batches of datagrams that size arrive. A size whose batches exceed what one
//! Linux send carries would be refused by the kernel (EMSGSIZE) and show up as lost packets or a stall.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::config::{EndpointSetup, MeshQuicBytes, MeshQuicConfig, FLAG_ACCEPT_INCOMING, MAX_UDP_PAYLOAD_SIZE};
use crate::connection::ConnectionHandle;
use crate::endpoint::EndpointHandle;
use crate::events::{EventCallback, EventKind, MeshQuicEvent};
use crate::stream::StreamHandle;

#[path = "../tests/support/setup.rs"]
mod setup;

use setup::{config, pki, Pki};

/// Long enough for a loaded 2-core machine; a transfer that stalls on dropped batches takes far longer.
const DEADLINE: Duration = Duration::from_secs(30);

/// One stream's receive window: at least 10 full datagrams (so full GSO batches go out), and small enough that the
/// default 208 KiB UDP receive buffer of a machine whose `net.core.rmem_max` was never raised holds what is in
/// flight, so no packet is lost for want of buffer space.
const WINDOW: u32 = 96 * 1024;

const TRANSFER_BYTES: usize = 8 * 1024 * 1024;

/// Where MTU discovery may stop: within its minimum change (quinn-proto's default, 20 bytes) of the upper bound.
const DISCOVERED_MTU: u16 = MAX_UDP_PAYLOAD_SIZE - 20;

/// (kind, status, token, handle) of every event but stream data, which is only counted.
static EVENTS: Mutex<Vec<(u32, i32, u64, usize)>> = Mutex::new(Vec::new());
static ARRIVED: Condvar = Condvar::new();
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn on_events(_context: *mut c_void, events: *const MeshQuicEvent, count: usize) -> i32 {
    // SAFETY: the library passes `count` valid events.
    let events = unsafe { std::slice::from_raw_parts(events, count) };
    let mut seen = EVENTS.lock().unwrap();
    for e in events {
        if e.kind == EventKind::StreamData as u32 {
            RECEIVED.fetch_add(e.len, Ordering::SeqCst);
        } else {
            seen.push((e.kind, e.status, e.token, e.handle as usize));
        }
    }
    ARRIVED.notify_all();
    0
}

fn wait_for(kind: EventKind, token: u64) -> (i32, usize) {
    let start = Instant::now();
    let mut seen = EVENTS.lock().unwrap();
    loop {
        if let Some(i) = seen.iter().position(|e| e.0 == kind as u32 && e.2 == token) {
            let (_, status, _, handle) = seen.remove(i);
            return (status, handle);
        }
        let left = DEADLINE.checked_sub(start.elapsed()).unwrap_or_else(|| panic!("no {kind:?} event within {DEADLINE:?}"));
        seen = ARRIVED.wait_timeout(seen, left).unwrap().0;
    }
}

fn endpoint(pki: &Pki, accept: bool) -> EndpointHandle {
    let config: MeshQuicConfig = config(pki, accept, WINDOW, on_events as EventCallback);
    // SAFETY: the byte ranges point into `pki` and static strings, which outlive the call.
    let setup: EndpointSetup = unsafe { config.parse() }.unwrap_or_else(|e| panic!("{}", e.message));
    EndpointHandle::create(setup).unwrap_or_else(|e| panic!("{}", e.message))
}

/// Takes ownership of a handle an event carried.
fn take<T>(handle: usize) -> Box<T> {
    assert_ne!(handle, 0, "the event carries a handle");
    // SAFETY: the library handed this Box<T> over in the event, and only this test took it.
    unsafe { Box::from_raw(handle as *mut T) }
}

#[test]
fn loopback_paths_reach_the_largest_datagram_and_full_batches_of_it_arrive() {
    let pki = pki();
    let server = endpoint(&pki, true);
    let client = endpoint(&pki, false);
    let address = server.local_addr().expect("server address");
    client.connect(address, "localhost", 1).expect("connect");
    let (status, handle) = wait_for(EventKind::ConnectCompleted, 1);
    assert_eq!(status, 0);
    let outbound: Box<ConnectionHandle> = take(handle);
    let (status, handle) = wait_for(EventKind::ConnectionAccepted, 0);
    assert_eq!(status, 0);
    let inbound: Box<ConnectionHandle> = take(handle);
    inbound.start(2).expect("start the accepted connection");

    // Discovery probes go out while the connection is otherwise idle; wait (bounded by DEADLINE) until it is done.
    let started = Instant::now();
    while outbound.stats().path.current_mtu < DISCOVERED_MTU && started.elapsed() < DEADLINE / 2 {
        std::thread::sleep(Duration::from_millis(1));
    }

    let stream = outbound.open_stream(3);
    let chunk = vec![0x5au8; 64 * 1024];
    let count = TRANSFER_BYTES / chunk.len();
    for i in 0..count {
        let buffers = [MeshQuicBytes { ptr: chunk.as_ptr(), len: chunk.len() }];
        // SAFETY: `chunk` outlives the call.
        unsafe { stream.send(&buffers, i + 1 == count, chunk.len() as u64) }.expect("send");
    }
    let (status, handle) = wait_for(EventKind::StreamAccepted, 2);
    assert_eq!(status, 0);
    let accepted: Box<StreamHandle> = take(handle);
    accepted.start(4).expect("start the accepted stream");
    let (status, _) = wait_for(EventKind::StreamFinished, 4);
    assert_eq!(status, 0);
    assert_eq!(RECEIVED.load(Ordering::SeqCst), TRANSFER_BYTES);

    let stats = outbound.stats();
    assert!(stats.path.current_mtu >= DISCOVERED_MTU, "MTU discovery stopped at {} bytes, not near {MAX_UDP_PAYLOAD_SIZE}", stats.path.current_mtu);
    assert_eq!(stats.path.lost_packets, 0, "packets lost on loopback: {:?}", stats.path);
    assert_eq!(stats.path.black_holes_detected, 0, "{:?}", stats.path);
    drop((accepted, stream, inbound, outbound, client, server));
}
