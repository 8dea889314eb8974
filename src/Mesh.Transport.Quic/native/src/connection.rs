//! A connection handle and the task that accepts the peer's streams and reports the close.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::config::Settings;
use crate::counters::{self, Live};
use crate::endpoint::deliver_handle;
use crate::error::{classify_connection_error, Error, Result, Status};
use crate::events::{EventKind, MeshQuicEvent, Sink};
use crate::stream::StreamHandle;

/// What ConnectCompleted / ConnectionAccepted events hand out. Dropping it closes the connection.
pub struct ConnectionHandle {
    connection: quinn::Connection,
    sink: Arc<Sink>,
    settings: Settings,
    /// Taken by `start`: an accepted connection waits for managed code to name its token.
    start: Mutex<Option<oneshot::Sender<u64>>>,
    /// Dropped with the handle, which ends the connection task.
    _stop: oneshot::Sender<()>,
    _live: Live,
}

impl ConnectionHandle {
    /// A connection we initiated knows its token already; an accepted one gets it from `start`.
    pub fn new(connection: quinn::Connection, sink: Arc<Sink>, settings: Settings, token: Option<u64>) -> Self {
        let (start_tx, start_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let start = match token {
            Some(token) => {
                let _ = start_tx.send(token);
                None
            }
            None => Some(start_tx),
        };
        tokio::spawn(connection_task(connection.clone(), sink.clone(), settings, start_rx, stop_rx));
        Self {
            connection,
            sink,
            settings,
            start: Mutex::new(start),
            _stop: stop_tx,
            _live: Live::new(&counters::CONNECTION_HANDLES),
        }
    }

    pub fn start(&self, token: u64) -> Result<()> {
        let sender = self.start.lock().unwrap_or_else(|p| p.into_inner()).take();
        match sender {
            Some(sender) => sender.send(token).map_err(|_| Error::new(Status::Closed, "connection task ended")),
            None => Err(Error::new(Status::InvalidState, "connection already started")),
        }
    }

    /// A new stream; it reaches the peer with its first bytes.
    pub fn open_stream(&self, token: u64) -> StreamHandle {
        StreamHandle::open(self.connection.clone(), self.sink.clone(), self.settings, token)
    }

    /// The DER of certificate `index` of the chain the peer presented (0: its leaf, then the intermediates it
    /// sent), or empty past its end or if it presented none.
    pub fn peer_certificate(&self, index: usize) -> Vec<u8> {
        self.connection
            .peer_identity()
            .and_then(|identity| identity.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>().ok())
            .and_then(|chain| chain.get(index).map(|cert| cert.as_ref().to_vec()))
            .unwrap_or_default()
    }

    /// The peer's UDP address (the current one: QUIC follows a peer that migrates).
    pub fn remote_address(&self) -> std::net::SocketAddr {
        self.connection.remote_address()
    }

    pub fn close(&self, code: u64, reason: &[u8]) -> Result<()> {
        let code = quinn::VarInt::from_u64(code).map_err(|_| Error::new(Status::InvalidArgument, "error code above 2^62"))?;
        self.connection.close(code, reason);
        Ok(())
    }
}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        self.connection.close(quinn::VarInt::from_u32(0), b"");
    }
}

async fn connection_task(
    connection: quinn::Connection,
    sink: Arc<Sink>,
    settings: Settings,
    start: oneshot::Receiver<u64>,
    mut stop: oneshot::Receiver<()>,
) {
    let _live = Live::new(&counters::CONNECTION_TASKS);
    let token = tokio::select! {
        token = start => match token {
            Ok(token) => token,
            Err(_) => return,
        },
        _ = &mut stop => return,
    };
    loop {
        tokio::select! {
            accepted = connection.accept_bi() => match accepted {
                Ok((send, recv)) => {
                    let handle = StreamHandle::accepted(send, recv, sink.clone(), settings);
                    deliver_handle(&sink, EventKind::StreamAccepted, token, handle);
                }
                Err(e) => {
                    let (status, code, message) = classify_connection_error(&e);
                    sink.emit(&[MeshQuicEvent::failed(EventKind::ConnectionClosed, token, status, code, &message)]);
                    return;
                }
            },
            _ = &mut stop => return,
        }
    }
}
