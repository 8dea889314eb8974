//! The sans-IO QUIC engine: quinn-proto's state machines driven by the threads that use them.
//!
//! - **Sending** runs on the caller's thread: `StreamHandle::send` writes into the connection under its lock, asks
//!   quinn-proto for the packets that are now due and sends them with `sendmsg` before it returns. No other thread is
//!   woken to send.
//! - **Receiving and timers** run on the endpoint's one I/O thread (`run`): it reads datagrams in batches, feeds them
//!   to the endpoint and its connections, handles expired timers, sends what that produced (ACKs, retransmissions),
//!   and hands received stream data and other events to managed code through the sink, never under a lock.
//!
//! Lock order: the endpoint's state, then a connection's. Events are emitted with no lock held, so callbacks may call
//! back into any function of the ABI.

use std::collections::{HashMap, VecDeque};
use std::io::IoSliceMut;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use quinn_proto as proto;
use quinn_proto::{ConnectionError, Dir, StreamEvent, StreamId, VarInt};

use crate::connection::ConnectionHandle;
use crate::counters::{self, Live};
use crate::error::{classify_connection_error, Error, Result, Status};
use crate::events::{EventKind, MeshQuicEvent, PAUSE_READING};
use crate::io::{Io, AWAKE, NEVER};
use crate::stream::StreamHandle;

/// Receive batches the I/O thread reads before it looks at timers and connections again.
const RECEIVE_ROUNDS: usize = 16;

/// Looks at the socket the I/O thread makes after its last work before it may sleep, however short
/// `Settings::receive_spin` is. A look is one `sched_yield`: on an idle core it returns at once, so the spin's time
/// bounds it there; on busy cores each yield lets the other runnable threads run first, so these looks keep the
/// thread awake across their time slices, when a datagram is most likely to arrive meanwhile and a wake-up costs most.
const MIN_SPIN_LOOKS: u32 = 64;

/// The endpoint's shared state: quinn-proto's endpoint and the connections it routes to.
pub struct Shared {
    pub io: Arc<Io>,
    pub state: Mutex<EndpointState>,
    pub client: proto::ClientConfig,
    pub server: Option<Arc<proto::ServerConfig>>,
    /// Bumped whenever `connections` changes, so the I/O thread knows to refresh its list.
    generation: AtomicU64,
}

pub struct EndpointState {
    pub proto: proto::Endpoint,
    connections: HashMap<proto::ConnectionHandle, (Arc<Conn>, Live)>,
    pub closed: bool,
}

impl Shared {
    pub fn new(io: Arc<Io>, proto: proto::Endpoint, client: proto::ClientConfig, server: Option<Arc<proto::ServerConfig>>) -> Self {
        Self {
            io,
            state: Mutex::new(EndpointState { proto, connections: HashMap::new(), closed: false }),
            client,
            server,
            generation: AtomicU64::new(0),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, EndpointState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(&self, state: &mut EndpointState, handle: proto::ConnectionHandle, conn: proto::Connection, role: Role) -> Arc<Conn> {
        let conn = Arc::new(Conn::new(self.io.clone(), handle, conn, role));
        state.connections.insert(handle, (conn.clone(), Live::new(&counters::CONNECTION_TASKS)));
        self.generation.fetch_add(1, Ordering::SeqCst);
        conn
    }

    /// Starts a connection; its handshake runs on the I/O thread, which reports ConnectCompleted with `token`.
    pub fn connect(&self, address: std::net::SocketAddr, server_name: &str, token: u64) -> Result<()> {
        let conn = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::new(Status::Closed, "endpoint closed"));
            }
            let (handle, conn) = state
                .proto
                .connect(Instant::now(), self.client.clone(), address, server_name)
                .map_err(|e| Error::new(Status::ConnectFailed, format!("connect to {address} ({server_name}): {e}")))?;
            self.insert(&mut state, handle, conn, Role::Client { connect_token: token })
        };
        conn.send_due(&mut conn.lock());
        conn.request_drive();
        Ok(())
    }

    /// Closes every connection (their peers learn at once) and stops the I/O thread.
    pub fn close(&self) {
        let connections: Vec<Arc<Conn>> = {
            let mut state = self.lock();
            state.closed = true;
            state.connections.values().map(|(c, _)| c.clone()).collect()
        };
        for conn in connections {
            let mut s = conn.lock();
            if !s.proto.is_closed() {
                s.proto.close(Instant::now(), VarInt::from_u32(0), Bytes::from_static(b"endpoint closed"));
                s.transmit(&conn.io);
            }
            // Nothing drives the connection any more: later sends on it fail at once.
            if s.lost.is_none() {
                s.lost = Some(ConnectionError::LocallyClosed);
            }
        }
        self.io.stop();
    }
}

#[derive(Clone, Copy)]
enum Role {
    Client { connect_token: u64 },
    Server,
}

/// One connection: quinn-proto's state behind a lock, and what the I/O thread needs to see without taking it.
pub struct Conn {
    pub io: Arc<Io>,
    handle: proto::ConnectionHandle,
    state: Mutex<ConnState>,
    /// quinn-proto's next deadline, as `Io::nanos`; `NEVER` when none.
    deadline: AtomicU64,
    /// Set when the I/O thread must look at this connection before it next sleeps.
    needs_drive: AtomicBool,
}

pub struct ConnState {
    pub proto: proto::Connection,
    role: Role,
    /// Managed code's token for the connection: known at once for a connection we opened, from `start` otherwise.
    token: Option<u64>,
    /// quinn-proto reported the handshake complete on this side.
    established: bool,
    /// Reported to managed code: established, and for a client also confirmed by the server (see `on_event`).
    connected: bool,
    /// A ConnectionHandle is (or is about to be) in managed hands; connection events go to it only then.
    handle_alive: bool,
    lost: Option<ConnectionError>,
    lost_reported: bool,
    streams: HashMap<u64, StreamState>,
    by_id: HashMap<StreamId, u64>,
    next_key: u64,
    /// Streams opened while the peer's stream limit was reached, in order.
    pending_opens: VecDeque<u64>,
    send_buf: Vec<u8>,
}

struct PendingSend {
    data: Bytes,
    len: usize,
    fin: bool,
    token: u64,
}

struct StreamState {
    id: Option<StreamId>,
    /// Managed code's token: known at once for a stream we opened, from `start` for an accepted one.
    token: Option<u64>,
    handle_alive: bool,
    pending: VecDeque<PendingSend>,
    /// FIN written or the send side reset: later sends fail.
    send_closed: bool,
    send_failure: Option<(Status, u64, String)>,
    read_done: bool,
    want_read: bool,
    paused: bool,
    resume_permits: u32,
    _live: Live,
}

impl StreamState {
    fn new(id: Option<StreamId>, token: Option<u64>) -> Self {
        Self {
            id,
            token,
            handle_alive: true,
            pending: VecDeque::new(),
            send_closed: false,
            send_failure: None,
            read_done: false,
            want_read: true,
            paused: false,
            resume_permits: 0,
            _live: Live::new(&counters::STREAM_TASKS),
        }
    }
}

/// What a drive produced for managed code, emitted in order once the connection's lock is released.
pub enum Out {
    /// An event and the message its `data` points at once emitted (empty: none).
    Event(MeshQuicEvent, String),
    /// ConnectCompleted or ConnectionAccepted (kind, token) with a new connection handle; freed if nobody takes it.
    Connection(EventKind, u64, Arc<Conn>),
    /// StreamAccepted for the connection's token, with a new handle of stream `key`; freed if nobody takes it.
    Stream(u64, Arc<Conn>, u64),
    /// Received chunks of stream `key` (managed token `token`), lent to the callback as one StreamData batch.
    Data { key: u64, token: u64, chunks: Vec<Bytes> },
}

fn failed(kind: EventKind, token: u64, (status, code, message): (Status, u64, String)) -> Out {
    Out::Event(MeshQuicEvent { status: status as i32, aux: code, ..MeshQuicEvent::new(kind, token) }, message)
}

fn send_failed(token: u64, sends: u64, (status, _, message): (Status, u64, String)) -> Out {
    Out::Event(MeshQuicEvent { status: status as i32, aux: sends, ..MeshQuicEvent::new(EventKind::SendCompleted, token) }, message)
}

impl Conn {
    fn new(io: Arc<Io>, handle: proto::ConnectionHandle, proto: proto::Connection, role: Role) -> Self {
        let token = match role {
            Role::Client { connect_token } => Some(connect_token),
            Role::Server => None,
        };
        Self {
            io,
            handle,
            state: Mutex::new(ConnState {
                proto,
                role,
                token,
                established: false,
                connected: false,
                handle_alive: false,
                lost: None,
                lost_reported: false,
                streams: HashMap::new(),
                by_id: HashMap::new(),
                next_key: 1,
                pending_opens: VecDeque::new(),
                send_buf: Vec::new(),
            }),
            deadline: AtomicU64::new(NEVER),
            needs_drive: AtomicBool::new(true),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records quinn-proto's next deadline; from any thread but the I/O thread, wakes it if it sleeps past it.
    pub fn publish_deadline(&self, s: &mut ConnState, wake: bool) {
        let nanos = s.proto.poll_timeout().map_or(NEVER, |t| self.io.nanos(t));
        self.deadline.store(nanos, Ordering::SeqCst);
        if wake {
            self.io.wake_before(nanos);
        }
    }

    /// On a thread other than the I/O thread, after changing the connection: sends what is due and wakes the I/O
    /// thread if the next deadline moved before its sleep.
    fn send_due(&self, s: &mut ConnState) {
        s.transmit(&self.io);
        self.publish_deadline(s, true);
    }

    /// Asks the I/O thread to look at this connection (a stream started or resumed, a local close).
    pub fn request_drive(&self) {
        self.needs_drive.store(true, Ordering::SeqCst);
        self.io.wake_if_sleeping();
    }

    // ---- Called through the handles, on any thread ----

    /// Names an accepted connection's token; the peer's streams are accepted from then on.
    pub fn start(&self, token: u64) -> Result<()> {
        let mut s = self.lock();
        if s.token.is_some() {
            return Err(Error::new(Status::InvalidState, "connection already started"));
        }
        s.token = Some(token);
        drop(s);
        self.request_drive();
        Ok(())
    }

    /// Closes the connection (the peer learns `code` and `reason` at once); its streams are reported aborted.
    pub fn close(&self, code: VarInt, reason: &[u8]) {
        let mut s = self.lock();
        if !s.proto.is_closed() {
            s.proto.close(Instant::now(), code, Bytes::copy_from_slice(reason));
            s.transmit(&self.io);
        }
        if s.lost.is_none() {
            s.lost = Some(ConnectionError::LocallyClosed);
        }
        self.publish_deadline(&mut s, true);
        drop(s);
        self.request_drive();
    }

    /// The managed handle was freed: close the connection and report nothing more about it.
    pub fn release(&self) {
        self.lock().handle_alive = false;
        self.close(VarInt::from_u32(0), b"");
    }

    /// A new stream; it reaches the peer with its first bytes. Returns its key.
    pub fn open_stream(&self, token: u64) -> u64 {
        let mut s = self.lock();
        let key = s.next_key;
        s.next_key += 1;
        let id = if s.lost.is_none() { s.proto.streams().open(Dir::Bi) } else { None };
        s.streams.insert(key, StreamState::new(id, Some(token)));
        match id {
            Some(id) => {
                s.by_id.insert(id, key);
            }
            None => s.pending_opens.push_back(key),
        }
        drop(s);
        if id.is_none() {
            // Either the peer's limit is reached (an Available event opens it) or the connection is gone (the I/O
            // thread reports the stream aborted).
            self.request_drive();
        }
        key
    }

    /// Names an accepted stream's token; its data is read from then on.
    pub fn start_stream(&self, key: u64, token: u64) -> Result<()> {
        let mut s = self.lock();
        let stream = s.streams.get_mut(&key).ok_or_else(|| Error::new(Status::Closed, "stream freed"))?;
        if stream.token.is_some() {
            return Err(Error::new(Status::InvalidState, "stream already started"));
        }
        stream.token = Some(token);
        stream.want_read = true;
        drop(s);
        self.request_drive();
        Ok(())
    }

    /// Writes one batch of sends into the stream and sends the packets that are due, on this thread.
    pub fn send(&self, key: u64, data: Vec<u8>, fin: bool, token: u64) -> Result<()> {
        let len = data.len();
        counters::QUEUED_SEND_BYTES.fetch_add(len as i64, Ordering::AcqRel);
        let mut out = Vec::new();
        {
            let mut s = self.lock();
            let s = &mut *s;
            let Some(stream) = s.streams.get_mut(&key) else {
                counters::QUEUED_SEND_BYTES.fetch_sub(len as i64, Ordering::AcqRel);
                return Err(Error::new(Status::Closed, "stream freed"));
            };
            let stream_token = stream.token.unwrap_or(0);
            let failure = if let Some(failure) = &stream.send_failure {
                Some(failure.clone())
            } else if stream.send_closed {
                Some((Status::Closed, 0, "stream already finished".to_owned()))
            } else {
                s.lost.as_ref().map(classify_connection_error)
            };
            if let Some(failure) = failure {
                counters::QUEUED_SEND_BYTES.fetch_sub(len as i64, Ordering::AcqRel);
                out.push(send_failed(stream_token, token, failure));
            } else {
                stream.pending.push_back(PendingSend { data: Bytes::from(data), len, fin, token });
                s.write_pending(key, &mut out);
                self.send_due(s);
            }
        }
        emit(self, out);
        Ok(())
    }

    /// Lets the I/O thread read a stream again that a StreamData callback paused.
    pub fn resume_reading(&self, key: u64) {
        let mut s = self.lock();
        let Some(stream) = s.streams.get_mut(&key) else { return };
        if stream.paused {
            stream.paused = false;
            stream.want_read = true;
            drop(s);
            self.request_drive();
        } else {
            // The resume overtook the I/O thread's recording of the pause it answers.
            stream.resume_permits += 1;
        }
    }

    /// Resets the send side and stops the receive side with `code`; queued sends fail.
    pub fn abort_stream(&self, key: u64, code: VarInt) -> Result<()> {
        let mut out = Vec::new();
        {
            let mut s = self.lock();
            let s = &mut *s;
            let stream = s.streams.get_mut(&key).ok_or_else(|| Error::new(Status::Closed, "stream freed"))?;
            let token = stream.token.unwrap_or(0);
            if !stream.pending.is_empty() {
                let sends = drain_pending(&mut stream.pending);
                out.push(send_failed(token, sends, (Status::Closed, 0, "stream aborted".to_owned())));
            }
            if let Some(id) = stream.id {
                if !stream.send_closed {
                    let _ = s.proto.send_stream(id).reset(code);
                }
                if !stream.read_done {
                    let _ = s.proto.recv_stream(id).stop(code);
                }
            }
            stream.send_closed = true;
            stream.read_done = true;
            self.send_due(s);
        }
        emit(self, out);
        Ok(())
    }

    /// The managed stream handle was freed. A send side never finished is reset, unless its last send carries FIN:
    /// then the stream stays until that is written. Reading stops.
    pub fn release_stream(&self, key: u64) {
        let mut s = self.lock();
        let s = &mut *s;
        let Some(stream) = s.streams.get_mut(&key) else { return };
        stream.handle_alive = false;
        let finishing = !stream.send_closed && stream.pending.back().is_some_and(|p| p.fin) && s.lost.is_none();
        if let Some(id) = stream.id {
            if !stream.read_done {
                let _ = s.proto.recv_stream(id).stop(VarInt::from_u32(0));
                stream.read_done = true;
            }
            if !stream.send_closed && !finishing {
                let _ = s.proto.send_stream(id).reset(VarInt::from_u32(0));
                stream.send_closed = true;
            }
        }
        if !finishing {
            s.remove_stream(key);
        }
        self.send_due(s);
    }

    // ---- The I/O thread ----

    /// Handles expired timers and quinn-proto's events, reads ready streams and sends what is due; returns the
    /// endpoint events to forward. Emits nothing itself: `out` is emitted by the caller once the lock is released.
    fn drive(self: &Arc<Self>, now: Instant, endpoint_events: &mut Vec<proto::EndpointEvent>, out: &mut Vec<Out>) {
        let mut s = self.lock();
        let s = &mut *s;
        if s.proto.poll_timeout().is_some_and(|t| t <= now) {
            s.proto.handle_timeout(now);
        }
        while let Some(event) = s.proto.poll() {
            s.on_event(event, out);
        }
        s.confirm(self, out);
        s.report_loss(out);
        if s.lost.is_none() {
            s.open_pending();
            if s.connected && s.token.is_some() && s.handle_alive {
                while let Some(id) = s.proto.streams().accept(Dir::Bi) {
                    let key = s.next_key;
                    s.next_key += 1;
                    let mut stream = StreamState::new(Some(id), None);
                    stream.want_read = false;
                    s.streams.insert(key, stream);
                    s.by_id.insert(id, key);
                    out.push(Out::Stream(s.token.unwrap_or(0), self.clone(), key));
                }
            }
        }
        if s.read_streams(self.io.settings.receive_batch_chunks.max(1), out) {
            self.needs_drive.store(true, Ordering::SeqCst);
        }
        s.transmit(&self.io);
        while let Some(event) = s.proto.poll_endpoint_events() {
            endpoint_events.push(event);
        }
        self.publish_deadline(s, false);
    }
}

/// Empties a stream's queue of sends; returns the sum of their tokens.
fn drain_pending(pending: &mut VecDeque<PendingSend>) -> u64 {
    pending.drain(..).fold(0u64, |sum, p| {
        counters::QUEUED_SEND_BYTES.fetch_sub(p.len as i64, Ordering::AcqRel);
        sum.wrapping_add(p.token)
    })
}

impl ConnState {
    fn on_event(&mut self, event: proto::Event, out: &mut Vec<Out>) {
        match event {
            // A client's handshake completes when it sends its Finished, before the server has checked the client's
            // certificate (TLS 1.3); a server that refuses it closes the connection a round trip later. So a client
            // reports the connection only once the server's HANDSHAKE_DONE shows it accepted it (`confirm`), and a
            // refusal is a failed connect rather than a connection that breaks on first use.
            proto::Event::Connected => self.established = true,
            proto::Event::ConnectionLost { reason } => {
                if !self.connected {
                    let failure = classify_connection_error(&reason);
                    match self.role {
                        Role::Client { connect_token } => out.push(failed(EventKind::ConnectCompleted, connect_token, failure)),
                        Role::Server => out.push(failed(EventKind::IncomingFailed, 0, failure)),
                    }
                    self.lost_reported = true;
                }
                if self.lost.is_none() {
                    self.lost = Some(reason);
                }
            }
            proto::Event::Stream(StreamEvent::Readable { id }) => {
                if let Some(stream) = self.by_id.get(&id).and_then(|key| self.streams.get_mut(key)) {
                    stream.want_read = true;
                }
            }
            proto::Event::Stream(StreamEvent::Writable { id }) | proto::Event::Stream(StreamEvent::Stopped { id, .. }) => {
                if let Some(&key) = self.by_id.get(&id) {
                    self.write_pending(key, out);
                }
            }
            proto::Event::Stream(StreamEvent::Available { dir: Dir::Bi }) => self.open_pending(),
            proto::Event::Stream(_) | proto::Event::HandshakeDataReady | proto::Event::DatagramReceived | proto::Event::DatagramsUnblocked => {}
        }
    }

    /// Reports the connection to managed code once it is established and, for a client, confirmed.
    fn confirm(&mut self, conn: &Arc<Conn>, out: &mut Vec<Out>) {
        if self.connected || !self.established || self.lost.is_some() {
            return;
        }
        match self.role {
            Role::Client { connect_token } => {
                if self.proto.stats().frame_rx.handshake_done == 0 {
                    return;
                }
                out.push(Out::Connection(EventKind::ConnectCompleted, connect_token, conn.clone()));
            }
            Role::Server => out.push(Out::Connection(EventKind::ConnectionAccepted, 0, conn.clone())),
        }
        self.connected = true;
        self.handle_alive = true;
    }

    /// Once the connection is gone: reports it to the managed connection and fails its streams, once each.
    fn report_loss(&mut self, out: &mut Vec<Out>) {
        let Some(reason) = &self.lost else { return };
        let failure = classify_connection_error(reason);
        if !self.lost_reported {
            if let (Some(token), true) = (self.token, self.handle_alive) {
                out.push(failed(EventKind::ConnectionClosed, token, failure.clone()));
                self.lost_reported = true;
            }
        }
        let mut released = Vec::new();
        for (&key, stream) in self.streams.iter_mut() {
            let Some(token) = stream.token else { continue };
            if !stream.pending.is_empty() {
                let sends = drain_pending(&mut stream.pending);
                if stream.handle_alive {
                    out.push(send_failed(token, sends, failure.clone()));
                }
            }
            if stream.send_failure.is_none() {
                stream.send_failure = Some(failure.clone());
            }
            if !stream.read_done {
                stream.read_done = true;
                if stream.handle_alive {
                    out.push(failed(EventKind::StreamAborted, token, failure.clone()));
                }
            }
            if !stream.handle_alive {
                released.push(key);
            }
        }
        for key in released {
            self.remove_stream(key);
        }
    }

    fn remove_stream(&mut self, key: u64) {
        if let Some(stream) = self.streams.remove(&key) {
            if let Some(id) = stream.id {
                self.by_id.remove(&id);
            }
            for p in stream.pending {
                counters::QUEUED_SEND_BYTES.fetch_sub(p.len as i64, Ordering::AcqRel);
            }
        }
    }

    fn open_pending(&mut self) {
        while let Some(&key) = self.pending_opens.front() {
            if !self.streams.contains_key(&key) {
                self.pending_opens.pop_front();
                continue;
            }
            let Some(id) = self.proto.streams().open(Dir::Bi) else { break };
            self.pending_opens.pop_front();
            self.by_id.insert(id, key);
            if let Some(stream) = self.streams.get_mut(&key) {
                stream.id = Some(id);
            }
            self.write_pending(key, &mut Vec::new());
        }
    }

    /// Writes the stream's queued sends into quinn-proto in order, as far as flow control allows; reports each send
    /// once all its bytes are in (or the stream failed).
    fn write_pending(&mut self, key: u64, out: &mut Vec<Out>) {
        let Some(stream) = self.streams.get_mut(&key) else { return };
        let Some(id) = stream.id else { return };
        let token = stream.token.unwrap_or(0);
        let mut completed: Option<u64> = None;
        let mut failure: Option<(Status, u64, String)> = None;
        while let Some(front) = stream.pending.front_mut() {
            if !front.data.is_empty() {
                match self.proto.send_stream(id).write_chunks(std::slice::from_mut(&mut front.data)) {
                    // Partly written: write again, which reports Blocked and so arms quinn-proto's Writable event.
                    Ok(_) if !front.data.is_empty() => continue,
                    Ok(_) => {}
                    Err(proto::WriteError::Blocked) => break,
                    Err(proto::WriteError::Stopped(code)) => {
                        failure = Some((Status::StreamAborted, code.into_inner(), format!("sending stopped by peer: error {code}")));
                        break;
                    }
                    Err(proto::WriteError::ClosedStream) => {
                        failure = Some((Status::Closed, 0, "closed stream".to_owned()));
                        break;
                    }
                }
            }
            let done = stream.pending.pop_front().expect("front exists");
            counters::QUEUED_SEND_BYTES.fetch_sub(done.len as i64, Ordering::AcqRel);
            counters::BYTES_SENT.fetch_add(done.len as i64, Ordering::AcqRel);
            completed = Some(completed.unwrap_or(0).wrapping_add(done.token));
            if done.fin {
                let _ = self.proto.send_stream(id).finish();
                stream.send_closed = true;
            }
        }
        if let Some(sends) = completed {
            if stream.handle_alive {
                out.push(Out::Event(MeshQuicEvent { aux: sends, ..MeshQuicEvent::new(EventKind::SendCompleted, token) }, String::new()));
            }
        }
        if let Some(failure) = failure {
            let sends = drain_pending(&mut stream.pending);
            stream.send_failure = Some(failure.clone());
            if stream.handle_alive {
                out.push(send_failed(token, sends, failure));
            }
        }
        // A released stream stayed only to write its last send (with FIN): once that is in quinn-proto, it can go.
        if !stream.handle_alive && (stream.pending.is_empty() || stream.send_failure.is_some()) {
            self.remove_stream(key);
        }
    }

    /// Reads every started, unpaused stream with data, one batch of chunks each; true if some have more.
    fn read_streams(&mut self, max: usize, out: &mut Vec<Out>) -> bool {
        let mut more = false;
        for (&key, stream) in self.streams.iter_mut() {
            if !stream.want_read || stream.paused || stream.read_done {
                continue;
            }
            let (Some(id), Some(token)) = (stream.id, stream.token) else { continue };
            let mut chunks_out = Vec::new();
            let mut end: Option<Out> = None;
            match self.proto.recv_stream(id).read(true) {
                Ok(mut chunks) => {
                    loop {
                        match chunks.next(usize::MAX) {
                            Ok(Some(chunk)) => {
                                chunks_out.push(chunk.bytes);
                                if chunks_out.len() == max {
                                    more = true;
                                    break;
                                }
                            }
                            Ok(None) => {
                                stream.read_done = true;
                                end = Some(Out::Event(MeshQuicEvent::new(EventKind::StreamFinished, token), String::new()));
                                break;
                            }
                            Err(proto::ReadError::Blocked) => {
                                stream.want_read = false;
                                break;
                            }
                            Err(proto::ReadError::Reset(code)) => {
                                stream.read_done = true;
                                let message = format!("stream reset by peer: error {code}");
                                end = Some(failed(EventKind::StreamAborted, token, (Status::StreamAborted, code.into_inner(), message)));
                                break;
                            }
                        }
                    }
                    let _ = chunks.finalize();
                }
                Err(_) => {
                    stream.read_done = true;
                }
            }
            if !chunks_out.is_empty() {
                let bytes: usize = chunks_out.iter().map(Bytes::len).sum();
                counters::BYTES_RECEIVED.fetch_add(bytes as i64, Ordering::AcqRel);
                out.push(Out::Data { key, token, chunks: chunks_out });
            }
            if let Some(end) = end {
                out.push(end);
            }
        }
        more
    }

    /// Sends every packet quinn-proto has due now.
    pub fn transmit(&mut self, io: &Io) {
        let now = Instant::now();
        let mut buf = std::mem::take(&mut self.send_buf);
        loop {
            buf.clear();
            match self.proto.poll_transmit(now, io.max_segments, &mut buf) {
                Some(t) => io.send(&t, &buf),
                None => break,
            }
        }
        self.send_buf = buf;
    }
}

/// Hands `out` to managed code in order, then records the streams whose data it paused. No lock may be held.
pub fn emit(conn: &Conn, out: Vec<Out>) {
    let sink = &conn.io.sink;
    let mut paused: Vec<u64> = Vec::new();
    for item in out {
        match item {
            Out::Event(mut event, message) => {
                if !message.is_empty() {
                    event.data = message.as_ptr();
                    event.len = message.len();
                }
                sink.emit(&[event]);
            }
            Out::Connection(kind, token, conn) => {
                deliver_handle(sink, kind, token, ConnectionHandle::new(conn));
            }
            Out::Stream(token, conn, key) => {
                deliver_handle(sink, EventKind::StreamAccepted, token, StreamHandle::new(conn, key));
            }
            Out::Data { key, token, chunks } => {
                let events: Vec<MeshQuicEvent> = chunks
                    .iter()
                    .map(|c| MeshQuicEvent { data: c.as_ptr(), len: c.len(), ..MeshQuicEvent::new(EventKind::StreamData, token) })
                    .collect();
                if sink.emit(&events) == Some(PAUSE_READING) {
                    paused.push(key);
                }
            }
        }
    }
    if !paused.is_empty() {
        let mut s = conn.lock();
        for key in paused {
            if let Some(stream) = s.streams.get_mut(&key) {
                if stream.resume_permits > 0 {
                    stream.resume_permits -= 1;
                } else {
                    stream.paused = true;
                }
            }
        }
    }
}

/// Hands a new handle to managed code in one event; frees it again if the endpoint is already closed.
pub fn deliver_handle<T>(sink: &crate::events::Sink, kind: EventKind, token: u64, handle: T) {
    let raw = Box::into_raw(Box::new(handle));
    let event = MeshQuicEvent { handle: raw.cast(), ..MeshQuicEvent::new(kind, token) };
    if sink.emit(&[event]).is_none() {
        // SAFETY: nobody received `raw`, so this is its only owner.
        drop(unsafe { Box::from_raw(raw) });
    }
}

/// The endpoint's I/O thread: receives, handles timers and drives connections until the endpoint closes.
pub fn run(shared: Arc<Shared>) {
    let io = shared.io.clone();
    let receive_segments = io.udp.gro_segments().max(1);
    let max_payload = crate::config::MAX_UDP_PAYLOAD_SIZE as usize;
    let mut receive_buf = vec![0u8; max_payload * receive_segments * quinn_udp::BATCH_SIZE];
    let mut metas = [quinn_udp::RecvMeta::default(); quinn_udp::BATCH_SIZE];
    let mut response = Vec::new();
    let mut connections: Vec<Arc<Conn>> = Vec::new();
    let mut generation = u64::MAX;
    let mut endpoint_events = Vec::new();
    let mut connection_events: Vec<proto::ConnectionEvent> = Vec::new();
    let mut out = Vec::new();
    let spin = io.settings.receive_spin;
    // When the thread last received a datagram or drove a connection, and how often it has looked since: it sleeps
    // only once both `spin` and `MIN_SPIN_LOOKS` have passed.
    let mut last_active = Instant::now();
    let mut looks: u32 = 0;
    while !io.is_stopped() {
        io.set_sleeping_until(AWAKE);
        let now = Instant::now();

        // 1. Datagrams, in batches, routed to their connections.
        for _ in 0..RECEIVE_ROUNDS {
            let count = {
                let mut iovs: Vec<IoSliceMut> = receive_buf.chunks_mut(max_payload * receive_segments).map(IoSliceMut::new).collect();
                match io.udp.recv((&io.socket).into(), &mut iovs, &mut metas) {
                    Ok(count) => count,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    // An error the socket reported (such as ECONNRESET, which QUIC ignores) is consumed by reading it.
                    Err(_) => continue,
                }
            };
            last_active = now;
            let stride_buf = max_payload * receive_segments;
            for (i, meta) in metas.iter().take(count).enumerate() {
                let mut data = BytesMut::from(&receive_buf[i * stride_buf..i * stride_buf + meta.len]);
                while !data.is_empty() {
                    let datagram = data.split_to(meta.stride.min(data.len()));
                    receive(&shared, now, meta, datagram, &mut response);
                }
            }
        }

        // 2. Connections with work: datagrams, expired timers, streams started or resumed.
        let current = shared.generation.load(Ordering::SeqCst);
        if current != generation {
            generation = current;
            connections = shared.lock().connections.values().map(|(c, _)| c.clone()).collect();
        }
        let now = Instant::now();
        let now_nanos = io.nanos(now);
        for conn in &connections {
            if !conn.needs_drive.swap(false, Ordering::SeqCst) && conn.deadline.load(Ordering::SeqCst) > now_nanos {
                continue;
            }
            conn.drive(now, &mut endpoint_events, &mut out);
            last_active = now;
            looks = 0;
            emit(conn, std::mem::take(&mut out));
            if !endpoint_events.is_empty() {
                {
                    let mut state = shared.lock();
                    for event in endpoint_events.drain(..) {
                        let drained = event.is_drained();
                        if let Some(back) = state.proto.handle_event(conn.handle, event) {
                            connection_events.push(back);
                        }
                        if drained {
                            state.connections.remove(&conn.handle);
                            shared.generation.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                if !connection_events.is_empty() {
                    let mut s = conn.lock();
                    for event in connection_events.drain(..) {
                        s.proto.handle_event(event);
                    }
                    conn.needs_drive.store(true, Ordering::SeqCst);
                }
            }
        }

        // 3. Sleep until the earliest deadline, unless something changed while we looked.
        let mut next = NEVER;
        for conn in &connections {
            if conn.needs_drive.load(Ordering::SeqCst) {
                next = AWAKE;
                break;
            }
            next = next.min(conn.deadline.load(Ordering::SeqCst));
        }
        if next == AWAKE || next <= io.nanos(Instant::now()) {
            continue;
        }
        // Still within the spin: look again after letting any other runnable thread have the core. While this thread
        // is awake (`sleeping_until` is AWAKE) senders skip the eventfd, and a datagram it finds needed no wake-up.
        if !spin.is_zero() && (looks < MIN_SPIN_LOOKS || last_active.elapsed() < spin) {
            looks += 1;
            std::thread::yield_now();
            continue;
        }
        io.set_sleeping_until(next);
        let changed = shared.generation.load(Ordering::SeqCst) != generation
            || connections.iter().any(|c| c.needs_drive.load(Ordering::SeqCst) || c.deadline.load(Ordering::SeqCst) < next);
        if changed || io.is_stopped() {
            continue;
        }
        io.sleep(next);
    }
}

/// Feeds one datagram to the endpoint and, through it, to its connection.
fn receive(shared: &Shared, now: Instant, meta: &quinn_udp::RecvMeta, datagram: BytesMut, response: &mut Vec<u8>) {
    let ecn = meta.ecn.map(|e| match e {
        quinn_udp::EcnCodepoint::Ect0 => proto::EcnCodepoint::Ect0,
        quinn_udp::EcnCodepoint::Ect1 => proto::EcnCodepoint::Ect1,
        quinn_udp::EcnCodepoint::Ce => proto::EcnCodepoint::Ce,
    });
    response.clear();
    let mut state = shared.lock();
    match state.proto.handle(now, meta.addr, meta.dst_ip, ecn, datagram, response) {
        Some(proto::DatagramEvent::ConnectionEvent(handle, event)) => {
            let conn = state.connections.get(&handle).map(|(c, _)| c.clone());
            drop(state);
            if let Some(conn) = conn {
                conn.lock().proto.handle_event(event);
                conn.needs_drive.store(true, Ordering::SeqCst);
            }
        }
        Some(proto::DatagramEvent::NewConnection(incoming)) => {
            if state.closed || shared.server.is_none() {
                let transmit = state.proto.refuse(incoming, response);
                drop(state);
                shared.io.send(&transmit, response);
                return;
            }
            match state.proto.accept(incoming, now, response, None) {
                Ok((handle, conn)) => {
                    let conn = shared.insert(&mut state, handle, conn, Role::Server);
                    drop(state);
                    conn.needs_drive.store(true, Ordering::SeqCst);
                }
                Err(e) => {
                    drop(state);
                    if let Some(transmit) = e.response {
                        shared.io.send(&transmit, response);
                    }
                    let (status, code, message) = classify_connection_error(&e.cause);
                    let event = MeshQuicEvent::failed(EventKind::IncomingFailed, 0, status, code, &message);
                    shared.io.sink.emit(&[event]);
                }
            }
        }
        Some(proto::DatagramEvent::Response(transmit)) => {
            drop(state);
            shared.io.send(&transmit, response);
        }
        None => {}
    }
}
