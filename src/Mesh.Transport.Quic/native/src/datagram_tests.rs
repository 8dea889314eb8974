//! Bulk transfers through this library's own driver on loopback.
//!
//! - The datagram size of `config::MAX_UDP_PAYLOAD_SIZE`: path MTU discovery reaches it, and full GSO batches of
//!   datagrams that size arrive. A size whose batches exceed what one Linux send carries would be refused by the
//!   kernel (EMSGSIZE) and show up as lost packets or a stall.
//! - Flow control: sends that quinn-proto takes only in part are finished once acknowledgements make room.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::config::{EndpointSetup, MeshQuicBytes, MeshQuicConfig, FLAG_ACCEPT_INCOMING, MAX_UDP_PAYLOAD_SIZE};
use crate::connection::ConnectionHandle;
use crate::endpoint::EndpointHandle;
use crate::events::{EventCallback, EventKind, MeshQuicEvent, PAUSE_READING};
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
    /// Answer every batch of stream data with PAUSE_READING (the test resumes the stream each time).
    pause: AtomicBool,
    pauses: AtomicUsize,
    /// The accepted stream (a `*const StreamHandle`), once it should be resumed inside the callback that pauses it.
    resume_inside: AtomicUsize,
}

/// How the server's reader treats incoming data.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    Straight,
    /// Pause after every batch; the test thread resumes.
    PausedAndResumedByTheTest,
    /// Pause after every batch and resume inside the same callback, before the pause is even recorded.
    PausedAndResumedAtOnce,
}

unsafe extern "C" fn on_events(context: *mut c_void, events: *const MeshQuicEvent, count: usize) -> i32 {
    // SAFETY: the context is the test's Recorder, which outlives the endpoint; the library passes `count` events.
    let (recorder, events) = unsafe { (&*(context as *const Recorder), std::slice::from_raw_parts(events, count)) };
    let mut seen = recorder.events.lock().unwrap();
    let mut answer = 0;
    for e in events {
        if e.kind == EventKind::StreamData as u32 {
            recorder.received.fetch_add(e.len, Ordering::SeqCst);
            if recorder.pause.load(Ordering::SeqCst) {
                answer = PAUSE_READING;
            }
        } else {
            seen.push((e.kind, e.status, e.token, e.handle as usize, e.aux));
        }
    }
    if answer == PAUSE_READING {
        recorder.pauses.fetch_add(1, Ordering::SeqCst);
        let stream = recorder.resume_inside.load(Ordering::SeqCst) as *const StreamHandle;
        // SAFETY: the test keeps the handle alive until the transfer ended and clears the pointer before freeing it.
        if let Some(stream) = unsafe { stream.as_ref() } {
            stream.resume_reading();
        }
    }
    recorder.arrived.notify_all();
    answer
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
    let stats = transfer(true, Reading::Straight, |_| {});
    assert!(stats.path.current_mtu >= DISCOVERED_MTU, "MTU discovery stopped at {} bytes, not near {MAX_UDP_PAYLOAD_SIZE}", stats.path.current_mtu);
    assert_eq!(stats.path.lost_packets, 0, "packets lost on loopback: {:?}", stats.path);
    assert_eq!(stats.path.black_holes_detected, 0, "{:?}", stats.path);
}

/// quinn-proto reports a stream writable again only after a write to it was refused; a send that the connection's
/// send window cut short must therefore be written again at once, or its rest waits forever.
#[test]
fn sends_cut_short_by_the_connections_send_window_are_finished_when_acknowledgements_free_it() {
    transfer(false, Reading::Straight, |setup| {
        let mut transport = quinn_proto::TransportConfig::default();
        transport.stream_receive_window(quinn_proto::VarInt::from_u32(WINDOW)).send_window(100_000);
        setup.client.transport_config(Arc::new(transport));
    });
}

/// A reader that pauses after every batch of data and is resumed from another thread gets every byte, including when
/// a resume overtakes the I/O thread's recording of the pause it answers.
#[test]
fn a_stream_paused_after_every_batch_and_resumed_from_another_thread_delivers_everything() {
    transfer(false, Reading::PausedAndResumedByTheTest, |_| {});
}

/// The race of the test above made certain: every resume arrives before the pause it answers is recorded.
#[test]
fn a_resume_that_overtakes_its_pause_is_not_lost() {
    transfer(false, Reading::PausedAndResumedAtOnce, |_| {});
}

/// Resumes stream `token` after each pause until it has finished; returns how often it resumed.
fn resume_until_finished(recorder: &Recorder, stream: &StreamHandle, token: u64) -> usize {
    let started = Instant::now();
    let mut resumed = 0;
    loop {
        {
            let seen = recorder.events.lock().unwrap();
            if seen.iter().any(|e| e.0 == EventKind::StreamFinished as u32 && e.2 == token) {
                return resumed;
            }
            if recorder.pauses.load(Ordering::SeqCst) == resumed {
                assert!(started.elapsed() < DEADLINE, "stalled after {resumed} pauses and {} bytes", recorder.received.load(Ordering::SeqCst));
                let _ = recorder.arrived.wait_timeout(seen, Duration::from_millis(100)).unwrap();
                continue;
            }
        }
        resumed += 1;
        stream.resume_reading();
    }
}

/// Sends `TRANSFER_BYTES` in 64 KiB sends on one stream (once the path's MTU has grown, if `discover`) and waits
/// until the server has read all of it as `reading` says; returns the client connection's statistics.
fn transfer(discover: bool, reading: Reading, adjust_client: impl FnOnce(&mut EndpointSetup)) -> quinn_proto::ConnectionStats {
    let pki = pki();
    let (server_events, client_events) = (Recorder::default(), Recorder::default());
    server_events.pause.store(reading != Reading::Straight, Ordering::SeqCst);
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
    if reading == Reading::PausedAndResumedAtOnce {
        server_events.resume_inside.store(&*accepted as *const StreamHandle as usize, Ordering::SeqCst);
    }
    accepted.start(4).expect("start the accepted stream");
    if reading == Reading::PausedAndResumedByTheTest {
        let resumed = resume_until_finished(&server_events, &accepted, 4);
        assert!(resumed > 10, "only {resumed} pauses: the test did not exercise pausing");
    }
    let (status, _, _) = server_events.wait_for(EventKind::StreamFinished, 4);
    assert_eq!(status, 0);
    server_events.resume_inside.store(0, Ordering::SeqCst);
    assert!(reading == Reading::Straight || server_events.pauses.load(Ordering::SeqCst) > 10, "pausing was not exercised");
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
