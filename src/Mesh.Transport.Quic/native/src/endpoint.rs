//! An endpoint: one UDP socket, the TLS configuration, the event sink, and (for a server) the
//! loop that accepts incoming connections.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::config::{self, EndpointSetup, Settings};
use crate::connection::ConnectionHandle;
use crate::counters::{self, Live};
use crate::error::{classify_connection_error, Error, Result, Status};
use crate::events::{EventKind, MeshQuicEvent, Sink};
use crate::runtime;

/// Kernel buffer asked for in each direction of an endpoint's UDP socket. The default (about 208 KiB on Linux) is less
/// than one stream's receive window, so a burst of a few hundred kilobytes, which eight concurrent senders of 1 KiB
/// messages produce on loopback, overflowed it: the kernel dropped datagrams, QUIC took them for congestion and
/// throughput halved. The kernel caps the size at `net.core.rmem_max` / `wmem_max`; asking is best effort.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// What `mesh_quic_endpoint_create` hands out. Dropping it closes the endpoint.
pub struct EndpointHandle {
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    sink: Arc<Sink>,
    settings: Settings,
    /// Dropped with the handle, which ends the accept loop.
    _stop_accepting: oneshot::Sender<()>,
    _live: Live,
}

impl EndpointHandle {
    pub fn create(setup: EndpointSetup) -> Result<Self> {
        let rt = runtime::get()?;
        let _enter = rt.enter();
        let socket = std::net::UdpSocket::bind(setup.bind).map_err(|e| Error::new(Status::Io, format!("bind {}: {e}", setup.bind)))?;
        enlarge_buffers(&socket);
        let accepts = setup.server.is_some();
        let endpoint = quinn::Endpoint::new(config::endpoint_config(), setup.server, socket, Arc::new(quinn::TokioRuntime))
            .map_err(|e| Error::new(Status::Io, format!("endpoint on {}: {e}", setup.bind)))?;
        let sink = Arc::new(Sink::new(setup.callback, setup.context));
        let (stop_tx, stop_rx) = oneshot::channel();
        if accepts {
            rt.spawn(accept_loop(endpoint.clone(), sink.clone(), setup.settings, stop_rx));
        }
        Ok(Self {
            endpoint,
            client: setup.client,
            sink,
            settings: setup.settings,
            _stop_accepting: stop_tx,
            _live: Live::new(&counters::ENDPOINT_HANDLES),
        })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.endpoint.local_addr().map_err(|e| Error::new(Status::Io, e.to_string()))
    }

    pub fn open_connections(&self) -> usize {
        self.endpoint.open_connections()
    }

    /// Starts a connection attempt; its outcome arrives as a ConnectCompleted event with `token`.
    pub fn connect(&self, addr: SocketAddr, server_name: &str, token: u64) -> Result<()> {
        let rt = runtime::get()?;
        let _enter = rt.enter();
        let connecting = self
            .endpoint
            .connect_with(self.client.clone(), addr, server_name)
            .map_err(|e| Error::new(Status::ConnectFailed, format!("connect to {addr} ({server_name}): {e}")))?;
        let sink = self.sink.clone();
        let settings = self.settings;
        rt.spawn(async move {
            match connecting.await {
                Ok(connection) => {
                    let handle = ConnectionHandle::new(connection, sink.clone(), settings, Some(token));
                    deliver_handle(&sink, EventKind::ConnectCompleted, token, handle);
                }
                Err(e) => {
                    let (status, code, message) = classify_connection_error(&e);
                    sink.emit(&[MeshQuicEvent::failed(EventKind::ConnectCompleted, token, status, code, &message)]);
                }
            }
        });
        Ok(())
    }
}

impl Drop for EndpointHandle {
    fn drop(&mut self) {
        let _enter = runtime::get().ok().map(|rt| rt.enter());
        self.endpoint.close(quinn::VarInt::from_u32(0), b"endpoint closed");
        self.sink.close();
    }
}

/// Asks for `SOCKET_BUFFER_BYTES` in both directions; a smaller buffer still works, only with more loss under bursts.
fn enlarge_buffers(socket: &std::net::UdpSocket) {
    if let Ok(state) = quinn::udp::UdpSocketState::new(socket.into()) {
        let _ = state.set_recv_buffer_size(socket.into(), SOCKET_BUFFER_BYTES);
        let _ = state.set_send_buffer_size(socket.into(), SOCKET_BUFFER_BYTES);
    }
}

/// Hands a new handle to managed code in one event; frees it again if the endpoint is already closed.
pub fn deliver_handle<T>(sink: &Sink, kind: EventKind, token: u64, handle: T) {
    let raw = Box::into_raw(Box::new(handle));
    let event = MeshQuicEvent { handle: raw.cast(), ..MeshQuicEvent::new(kind, token) };
    if sink.emit(&[event]).is_none() {
        // SAFETY: nobody received `raw`, so this is its only owner.
        drop(unsafe { Box::from_raw(raw) });
    }
}

async fn accept_loop(endpoint: quinn::Endpoint, sink: Arc<Sink>, settings: Settings, mut stop: oneshot::Receiver<()>) {
    loop {
        let incoming = tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(incoming) => incoming,
                None => break,
            },
            _ = &mut stop => break,
        };
        let sink = sink.clone();
        tokio::spawn(async move {
            match incoming.await {
                Ok(connection) => {
                    let handle = ConnectionHandle::new(connection, sink.clone(), settings, None);
                    deliver_handle(&sink, EventKind::ConnectionAccepted, 0, handle);
                }
                Err(e) => {
                    let (status, code, message) = classify_connection_error(&e);
                    sink.emit(&[MeshQuicEvent::failed(EventKind::IncomingFailed, 0, status, code, &message)]);
                }
            }
        });
    }
}
