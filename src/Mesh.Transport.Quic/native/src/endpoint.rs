//! An endpoint: one UDP socket, the TLS configuration, the event sink, and the I/O thread that receives for every
//! connection of the endpoint (see `driver`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use quinn_proto as proto;

use crate::config::{self, EndpointSetup};
use crate::counters::{self, Live};
use crate::driver::{self, Shared};
use crate::error::{Error, Result, Status};
use crate::events::Sink;
use crate::io::Io;

/// Kernel buffer asked for in each direction of an endpoint's UDP socket. The default (about 208 KiB on Linux) is less
/// than one stream's receive window, so a burst of a few hundred kilobytes, which eight concurrent senders of 1 KiB
/// messages produce on loopback, overflowed it: the kernel dropped datagrams, QUIC took them for congestion and
/// throughput halved. The kernel caps the size at `net.core.rmem_max` / `wmem_max`; asking is best effort.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// What `mesh_quic_endpoint_create` hands out. Dropping it closes the endpoint.
pub struct EndpointHandle {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    _live: Live,
}

impl EndpointHandle {
    pub fn create(setup: EndpointSetup) -> Result<Self> {
        let socket = std::net::UdpSocket::bind(setup.bind).map_err(|e| Error::new(Status::Io, format!("bind {}: {e}", setup.bind)))?;
        let sink = Arc::new(Sink::new(setup.callback, setup.context));
        let io = Io::new(socket, sink, setup.settings)?;
        let _ = io.udp.set_recv_buffer_size((&io.socket).into(), SOCKET_BUFFER_BYTES);
        let _ = io.udp.set_send_buffer_size((&io.socket).into(), SOCKET_BUFFER_BYTES);
        let server = setup.server.map(Arc::new);
        let endpoint = proto::Endpoint::new(Arc::new(config::endpoint_config()), server.clone(), !io.udp.may_fragment(), None);
        let shared = Arc::new(Shared::new(Arc::new(io), endpoint, setup.client, server));
        let runner = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mesh-quic-io".to_owned())
            .spawn(move || driver::run(runner))
            .map_err(|e| Error::new(Status::Internal, format!("I/O thread: {e}")))?;
        Ok(Self { shared, thread: Mutex::new(Some(thread)), _live: Live::new(&counters::ENDPOINT_HANDLES) })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.shared.io.socket.local_addr().map_err(|e| Error::new(Status::Io, e.to_string()))
    }

    pub fn open_connections(&self) -> usize {
        self.shared.lock().proto.open_connections()
    }

    /// Starts a connection attempt; its outcome arrives as a ConnectCompleted event with `token`.
    pub fn connect(&self, addr: SocketAddr, server_name: &str, token: u64) -> Result<()> {
        self.shared.connect(addr, server_name, token)
    }
}

impl Drop for EndpointHandle {
    fn drop(&mut self) {
        self.shared.close();
        self.shared.io.sink.close();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        // Freed from a callback on the I/O thread itself: it stops once the callback returns.
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() && !self.shared.io.sink.in_callback() {
                let _ = thread.join();
            }
        }
    }
}
