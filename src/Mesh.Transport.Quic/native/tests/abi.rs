//! Drives the C ABI the way managed code does: two endpoints with rcgen certificates, a connect,
//! an accept, and every handle freed, after which the live counters are back at zero.

use std::ffi::c_void;
use std::ptr;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use mesh_quic::*;

#[path = "support/setup.rs"]
mod setup;

use setup::{bytes, config, pki, Pki};

const DEADLINE: Duration = Duration::from_secs(20);

/// (kind, status, token, handle) of every event, in arrival order.
static EVENTS: Mutex<Vec<(u32, i32, u64, usize)>> = Mutex::new(Vec::new());
static ARRIVED: Condvar = Condvar::new();

unsafe extern "C" fn on_events(_context: *mut c_void, events: *const MeshQuicEvent, count: usize) -> i32 {
    let events = unsafe { std::slice::from_raw_parts(events, count) };
    let mut seen = EVENTS.lock().unwrap();
    for e in events {
        seen.push((e.kind, e.status, e.token, e.handle as usize));
    }
    ARRIVED.notify_all();
    0
}

fn wait_for(kind: EventKind) -> (i32, u64, usize) {
    let start = Instant::now();
    let mut seen = EVENTS.lock().unwrap();
    loop {
        if let Some(i) = seen.iter().position(|e| e.0 == kind as u32) {
            let (_, status, token, handle) = seen.remove(i);
            return (status, token, handle);
        }
        let left = DEADLINE.checked_sub(start.elapsed()).unwrap_or_else(|| panic!("no {kind:?} event within {DEADLINE:?}"));
        seen = ARRIVED.wait_timeout(seen, left).unwrap().0;
    }
}

fn endpoint(pki: &Pki, accept: bool) -> *mut EndpointHandle {
    let config = config(pki, accept, 0, on_events);
    let mut out = ptr::null_mut();
    let status = unsafe { mesh_quic_endpoint_create(&config, &mut out) };
    assert_eq!(status, Status::Ok as i32, "{}", last_error());
    out
}

fn last_error() -> String {
    let mut buf = vec![0u8; 1024];
    let n = unsafe { mesh_quic_last_error(buf.as_mut_ptr(), buf.len()) };
    String::from_utf8_lossy(&buf[..n.min(buf.len())]).into_owned()
}

fn counters() -> MeshQuicCounters {
    let mut c = MeshQuicCounters::default();
    assert_eq!(unsafe { mesh_quic_counters(&mut c) }, 0);
    c
}

#[test]
fn abi_structs_have_the_layout_of_mesh_quic_h() {
    assert_eq!(std::mem::size_of::<MeshQuicConfig>(), 160);
    assert_eq!(std::mem::size_of::<MeshQuicEvent>(), 48);
    assert_eq!(std::mem::size_of::<MeshQuicCounters>(), 80);
    assert_eq!(std::mem::size_of::<MeshQuicBytes>(), 16);
}

#[test]
fn a_receive_spin_above_its_limit_is_a_configuration_error() {
    let pki = pki();
    let mut config = config(&pki, false, 0, on_events);
    config.receive_spin_us = MAX_RECEIVE_SPIN_US + 1;
    let mut out = ptr::null_mut();
    let status = unsafe { mesh_quic_endpoint_create(&config, &mut out) };
    assert_eq!(status, Status::InvalidConfig as i32);
    assert!(out.is_null());
    assert!(last_error().contains("receive spin"), "{}", last_error());

    config.receive_spin_us = MAX_RECEIVE_SPIN_US;
    let status = unsafe { mesh_quic_endpoint_create(&config, &mut out) };
    assert_eq!(status, Status::Ok as i32, "{}", last_error());
    unsafe { mesh_quic_endpoint_free(out) };
}

#[test]
fn connect_accept_and_free_leave_no_live_objects() {
    let pki = pki();
    let server = endpoint(&pki, true);
    let client = endpoint(&pki, false);
    let mut port = 0u16;
    assert_eq!(unsafe { mesh_quic_endpoint_local_port(server, &mut port) }, 0);

    let address = format!("127.0.0.1:{port}");
    let status = unsafe { mesh_quic_endpoint_connect(client, bytes(address.as_bytes()), bytes(b"localhost"), 7) };
    assert_eq!(status, 0, "{}", last_error());

    let (status, token, outbound) = wait_for(EventKind::ConnectCompleted);
    assert_eq!((status, token), (Status::Ok as i32, 7));
    let (status, _, inbound) = wait_for(EventKind::ConnectionAccepted);
    assert_eq!(status, Status::Ok as i32);
    assert_eq!(unsafe { mesh_quic_connection_start(inbound as *const ConnectionHandle, 8) }, 0);
    assert_eq!(unsafe { mesh_quic_connection_start(inbound as *const ConnectionHandle, 8) }, Status::InvalidState as i32);

    // The server sees the client's address; the leaf is certificate 0 of the chain and nothing lies past its end.
    let mut text = [0u8; 64];
    let mut length = 0usize;
    assert_eq!(unsafe { mesh_quic_connection_remote_address(inbound as *const ConnectionHandle, text.as_mut_ptr(), text.len(), &mut length) }, 0);
    let remote = std::str::from_utf8(&text[..length]).expect("UTF-8 address");
    assert!(remote.starts_with("127.0.0.1:"), "{remote}");
    assert_eq!(unsafe { mesh_quic_connection_peer_certificate(inbound as *const ConnectionHandle, 0, std::ptr::null_mut(), 0, &mut length) }, 0);
    assert!(length > 0);
    assert_eq!(unsafe { mesh_quic_connection_peer_certificate(inbound as *const ConnectionHandle, 8, std::ptr::null_mut(), 0, &mut length) }, 0);
    assert_eq!(length, 0);
    assert!(counters().heap_bytes > 0, "the counting allocator sees the library's allocations");

    unsafe {
        mesh_quic_connection_free(outbound as *mut ConnectionHandle);
        mesh_quic_connection_free(inbound as *mut ConnectionHandle);
        mesh_quic_endpoint_free(client);
        mesh_quic_endpoint_free(server);
    }

    let start = Instant::now();
    while counters().connection_tasks != 0 && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(10));
    }
    let c = counters();
    assert_eq!((c.endpoint_handles, c.connection_handles, c.stream_handles, c.connection_tasks, c.stream_tasks), (0, 0, 0, 0, 0));
}
