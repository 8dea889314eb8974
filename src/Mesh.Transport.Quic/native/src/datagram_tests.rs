//! Bulk transfers through this library's own driver on loopback.
//!
//! - The datagram size of `config::MAX_UDP_PAYLOAD_SIZE`: path MTU discovery reaches it, and full GSO batches of
//!   datagrams that size arrive. A size whose batches exceed what one Linux send carries would be refused by the
//!   kernel (EMSGSIZE) and show up as lost packets or a stall.
//! - Flow control: sends that quinn-proto takes only in part are finished once acknowledgements make room.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
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

/// (kind, status, token, handle, aux) of one event.
type Seen = (u32, i32, u64, usize, u64);

/// What one endpoint's callback saw: every event but stream data, which is only counted.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Seen>>,
    arrived: Condvar,
    received: AtomicUsize,
}

unsafe extern "C" fn on_events(context: *mut c_void, events: *const MeshQuicEvent, count: usize) -> i32 {
    // SAFETY: the context is the test's Recorder, which outlives the endpoint; the library passes `count` events.
    let (recorder, events) = unsafe { (&*(context as *const Recorder), std::slice::from_raw_parts(events, count)) };
    let mut seen = recorder.events.lock().unwrap();
    for e in events {
        if e.kind == EventKind::StreamData as u32 {
            recorder.received.fetch_add(e.len, Ordering::SeqCst);
        } else {
            seen.push((e.kind, e.status, e.token, e.handle as usize, e.aux));
        }
    }
    recorder.arrived.notify_all();
    0
}

impl Recorder {
    /// Removes and returns (status, handle, aux) of the first event of `kind` for `token`, waiting for it.
    fn wait_for(&self, kind: EventKind, token: u64) -> (i32, usize, u64) {
        let start = Instant::now();
        let mut seen = self.events.lock().unwrap();
        loop {
            if let Some(i) = seen.iter().position(|e| e.0 == kind as u32 && e.2 == token) {
                let (_, status, _, handle, aux) = seen.remove(i);
                return (status, handle, aux);
            }
            let left = DEADLINE.checked_sub(start.elapsed()).unwrap_or_else(|| panic!("no {kind:?} event within {DEADLINE:?}"));
            seen = self.arrived.wait_timeout(seen, left).unwrap().0;
        }
    }
}

/// An endpoint reporting to `recorder`; `adjust` may change the parsed configuration.
fn endpoint(pki: &Pki, accept: bool, recorder: &Recorder, adjust: impl FnOnce(&mut EndpointSetup)) -> EndpointHandle {
    let mut config: MeshQuicConfig = config(pki, accept, WINDOW, on_events as EventCallback);
    config.context = recorder as *const Recorder as *mut c_void;
    // SAFETY: the byte ranges point into `pki` and static strings, which outlive the call.
    let mut setup: EndpointSetup = unsafe { config.parse() }.unwrap_or_else(|e| panic!("{}", e.message));
    adjust(&mut setup);
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
    let stats = transfer(true, |_| {});
    assert!(stats.path.current_mtu >= DISCOVERED_MTU, "MTU discovery stopped at {} bytes, not near {MAX_UDP_PAYLOAD_SIZE}", stats.path.current_mtu);
    assert_eq!(stats.path.lost_packets, 0, "packets lost on loopback: {:?}", stats.path);
    assert_eq!(stats.path.black_holes_detected, 0, "{:?}", stats.path);
}

/// quinn-proto reports a stream writable again only after a write to it was refused; a send that the connection's
/// send window cut short must therefore be written again at once, or its rest waits forever.
#[test]
fn sends_cut_short_by_the_connections_send_window_are_finished_when_acknowledgements_free_it() {
    transfer(false, |setup| {
        let mut transport = quinn_proto::TransportConfig::default();
        transport.stream_receive_window(quinn_proto::VarInt::from_u32(WINDOW)).send_window(100_000);
        setup.client.transport_config(Arc::new(transport));
    });
}

/// Sends `TRANSFER_BYTES` in 64 KiB sends on one stream (once the path's MTU has grown, if `discover`) and waits
/// until the server has read all of it; returns the client connection's statistics.
fn transfer(discover: bool, adjust_client: impl FnOnce(&mut EndpointSetup)) -> quinn_proto::ConnectionStats {
    let pki = pki();
    let (server_events, client_events) = (Recorder::default(), Recorder::default());
    let server = endpoint(&pki, true, &server_events, |_| {});
    let client = endpoint(&pki, false, &client_events, adjust_client);
    let address = server.local_addr().expect("server address");
    client.connect(address, "localhost", 1).expect("connect");
    let (status, handle, _) = client_events.wait_for(EventKind::ConnectCompleted, 1);
    assert_eq!(status, 0);
    let outbound: Box<ConnectionHandle> = take(handle);
    let (status, handle, _) = server_events.wait_for(EventKind::ConnectionAccepted, 0);
    assert_eq!(status, 0);
    let inbound: Box<ConnectionHandle> = take(handle);
    inbound.start(2).expect("start the accepted connection");

    // Discovery probes go out while the connection is otherwise idle; wait (bounded by DEADLINE) until it is done.
    let started = Instant::now();
    while discover && outbound.stats().path.current_mtu < DISCOVERED_MTU && started.elapsed() < DEADLINE / 2 {
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
    let (status, handle, _) = server_events.wait_for(EventKind::StreamAccepted, 2);
    assert_eq!(status, 0);
    let accepted: Box<StreamHandle> = take(handle);
    accepted.start(4).expect("start the accepted stream");
    let (status, _, _) = server_events.wait_for(EventKind::StreamFinished, 4);
    assert_eq!(status, 0);
    assert_eq!(server_events.received.load(Ordering::SeqCst), TRANSFER_BYTES);
    // Every send was reported written, each once: the tokens (their lengths) add up to the transfer.
    let mut sent = 0u64;
    while sent < TRANSFER_BYTES as u64 {
        let (status, _, sends) = client_events.wait_for(EventKind::SendCompleted, 3);
        assert_eq!(status, 0);
        sent += sends;
    }
    assert_eq!(sent, TRANSFER_BYTES as u64);

    let stats = outbound.stats();
    drop((accepted, stream, inbound, outbound, client, server));
    stats
}
