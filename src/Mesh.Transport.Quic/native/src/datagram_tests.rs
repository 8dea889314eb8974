//! The datagram size of `config::MAX_UDP_PAYLOAD_SIZE`, tested with quinn directly on loopback: path MTU discovery
//! reaches it, and full GSO batches of datagrams that size arrive. A size whose batches exceed what one Linux send
//! carries would be dropped by the kernel (quinn-udp ignores EMSGSIZE) and show up as lost packets or a stall.

use std::ffi::c_void;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{self, EndpointSetup, MeshQuicBytes, MeshQuicConfig, FLAG_ACCEPT_INCOMING, MAX_UDP_PAYLOAD_SIZE};
use crate::events::{EventCallback, MeshQuicEvent};

#[path = "../tests/support/setup.rs"]
mod setup;

use setup::{config, pki, Pki};

/// Long enough for a loaded 2-core machine; a transfer that stalls on dropped batches takes far longer.
const DEADLINE: Duration = Duration::from_secs(30);

/// One stream's receive window: at least 10 full datagrams (so quinn sends full GSO batches), and small enough that
/// the default 208 KiB UDP receive buffer of a machine whose `net.core.rmem_max` was never raised holds what is in
/// flight, so no packet is lost for want of buffer space.
const WINDOW: u32 = 96 * 1024;

const TRANSFER_BYTES: usize = 8 * 1024 * 1024;

/// Where MTU discovery may stop: within its minimum change (quinn's default, 20 bytes) of the upper bound.
const DISCOVERED_MTU: u16 = MAX_UDP_PAYLOAD_SIZE - 20;

unsafe extern "C" fn ignore_events(_context: *mut c_void, _events: *const MeshQuicEvent, _count: usize) -> i32 {
    0
}

fn endpoint_setup(pki: &Pki, accept: bool) -> EndpointSetup {
    let config = config(pki, accept, WINDOW, ignore_events);
    // SAFETY: the byte ranges point into `pki` and static strings, which outlive the call.
    unsafe { config.parse() }.unwrap_or_else(|e| panic!("{}", e.message))
}

fn endpoint(setup: &EndpointSetup) -> quinn::Endpoint {
    let socket = std::net::UdpSocket::bind(setup.bind).expect("bind 127.0.0.1:0");
    quinn::Endpoint::new(config::endpoint_config(), setup.server.clone(), socket, Arc::new(quinn::TokioRuntime)).expect("endpoint")
}

#[test]
fn loopback_paths_reach_the_largest_datagram_and_full_batches_of_it_arrive() {
    let pki = pki();
    let (server_setup, client_setup) = (endpoint_setup(&pki, true), endpoint_setup(&pki, false));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let stats = runtime.block_on(async {
        tokio::time::timeout(DEADLINE, transfer(&server_setup, &client_setup))
            .await
            .unwrap_or_else(|_| panic!("{TRANSFER_BYTES} bytes not echoed within {DEADLINE:?}: datagrams were dropped"))
    });
    assert!(
        stats.path.current_mtu >= DISCOVERED_MTU,
        "MTU discovery stopped at {} bytes, not near {MAX_UDP_PAYLOAD_SIZE}",
        stats.path.current_mtu
    );
    assert_eq!(stats.path.lost_packets, 0, "packets lost on loopback: {:?}", stats.path);
    assert_eq!(stats.path.black_holes_detected, 0, "{:?}", stats.path);
}

/// Sends `TRANSFER_BYTES` on one stream once the path's MTU has grown; the server answers with the count it read.
async fn transfer(server_setup: &EndpointSetup, client_setup: &EndpointSetup) -> quinn::ConnectionStats {
    let server = endpoint(server_setup);
    let address: SocketAddr = server.local_addr().expect("server address");
    let reader = tokio::spawn(async move {
        let connection = server.accept().await.expect("an incoming connection").await.expect("handshake");
        let (mut send, mut recv) = connection.accept_bi().await.expect("a stream");
        let received = recv.read_to_end(TRANSFER_BYTES).await.expect("the whole transfer");
        send.write_all(&(received.len() as u64).to_le_bytes()).await.expect("answer");
        send.finish().expect("finish");
        connection.closed().await;
    });

    let client = endpoint(client_setup);
    let connection = client.connect_with(client_setup.client.clone(), address, "localhost").expect("connect").await.expect("handshake");
    // Discovery probes go out while the connection is otherwise idle; wait (bounded by DEADLINE) until it is done.
    let started = Instant::now();
    while connection.stats().path.current_mtu < DISCOVERED_MTU && started.elapsed() < DEADLINE / 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let (mut send, mut recv) = connection.open_bi().await.expect("open a stream");
    let chunk = vec![0x5au8; 64 * 1024];
    for _ in 0..TRANSFER_BYTES / chunk.len() {
        send.write_all(&chunk).await.expect("write");
    }
    send.finish().expect("finish");
    let answer = recv.read_to_end(8).await.expect("the server's count");
    assert_eq!(u64::from_le_bytes(answer.try_into().expect("8 bytes")), TRANSFER_BYTES as u64);

    let stats = connection.stats();
    connection.close(quinn::VarInt::from_u32(0), b"done");
    reader.await.expect("server task");
    client.wait_idle().await;
    stats
}
