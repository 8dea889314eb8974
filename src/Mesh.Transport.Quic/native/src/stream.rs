//! A bidirectional stream handle and the task that writes its sends and reads its data.
//!
//! Sends are copied once per batch into one buffer and queued to the stream's task, which writes
//! them in order and reports each with a SendCompleted event. Reads hand quinn's received chunks
//! to managed code in batches, without copying, for the duration of one callback.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::config::{MeshQuicBytes, Settings};
use crate::counters::{self, Live};
use crate::error::{classify_connection_error, classify_read_error, classify_write_error, Error, Result, Status};
use crate::events::{EventKind, MeshQuicEvent, Sink, PAUSE_READING};

enum Command {
    Send { data: Vec<u8>, fin: bool, token: u64 },
    Abort { code: quinn::VarInt },
}

enum Source {
    Open(quinn::Connection),
    Accepted(quinn::SendStream, quinn::RecvStream),
}

/// What `mesh_quic_connection_open_stream` and StreamAccepted events hand out.
/// Dropping it resets a send side that was never finished and stops reading.
pub struct StreamHandle {
    commands: mpsc::UnboundedSender<Command>,
    start: Mutex<Option<oneshot::Sender<u64>>>,
    resume: Arc<Notify>,
    /// `Some(code)` asks the reader to stop with that code; dropping the sender stops it with 0.
    abort: watch::Sender<Option<u64>>,
    settings: Settings,
    _live: Live,
}

impl StreamHandle {
    pub fn open(connection: quinn::Connection, sink: Arc<Sink>, settings: Settings, token: u64) -> Self {
        let handle = Self::spawn(Source::Open(connection), sink, settings);
        handle.start(token).expect("a new stream's task waits for its start");
        handle
    }

    pub fn accepted(send: quinn::SendStream, recv: quinn::RecvStream, sink: Arc<Sink>, settings: Settings) -> Self {
        Self::spawn(Source::Accepted(send, recv), sink, settings)
    }

    fn spawn(source: Source, sink: Arc<Sink>, settings: Settings) -> Self {
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (start_tx, start_rx) = oneshot::channel();
        let (abort, abort_rx) = watch::channel(None);
        let resume = Arc::new(Notify::new());
        tokio::spawn(stream_task(source, sink, settings, start_rx, commands_rx, abort_rx, resume.clone()));
        Self {
            commands,
            start: Mutex::new(Some(start_tx)),
            resume,
            abort,
            settings,
            _live: Live::new(&counters::STREAM_HANDLES),
        }
    }

    pub fn start(&self, token: u64) -> Result<()> {
        let sender = self.start.lock().unwrap_or_else(|p| p.into_inner()).take();
        match sender {
            Some(sender) => sender.send(token).map_err(|_| Error::new(Status::Closed, "stream task ended")),
            None => Err(Error::new(Status::InvalidState, "stream already started")),
        }
    }

    /// Copies `buffers` into one batch and queues it; `fin` finishes the send side after it.
    ///
    /// # Safety
    /// Every buffer must be valid for the duration of the call.
    pub unsafe fn send(&self, buffers: &[MeshQuicBytes], fin: bool, token: u64) -> Result<()> {
        let mut total = 0usize;
        for b in buffers {
            total = total.saturating_add(b.len);
        }
        if total > self.settings.max_send_batch_bytes {
            return Err(Error::new(
                Status::InvalidArgument,
                format!("send batch of {total} bytes exceeds the maximum of {}", self.settings.max_send_batch_bytes),
            ));
        }
        let mut data = Vec::with_capacity(total);
        for b in buffers {
            // SAFETY: the caller guarantees every buffer for the duration of the call.
            data.extend_from_slice(unsafe { b.as_slice() }?);
        }
        counters::QUEUED_SEND_BYTES.fetch_add(total as i64, Ordering::AcqRel);
        self.commands.send(Command::Send { data, fin, token }).map_err(|e| {
            if let Command::Send { data, .. } = e.0 {
                counters::QUEUED_SEND_BYTES.fetch_sub(data.len() as i64, Ordering::AcqRel);
            }
            Error::new(Status::Closed, "stream closed")
        })
    }

    pub fn resume_reading(&self) {
        self.resume.notify_one();
    }

    pub fn abort(&self, code: u64) -> Result<()> {
        let code = quinn::VarInt::from_u64(code).map_err(|_| Error::new(Status::InvalidArgument, "error code above 2^62"))?;
        let _ = self.abort.send(Some(code.into_inner()));
        self.commands.send(Command::Abort { code }).map_err(|_| Error::new(Status::Closed, "stream closed"))
    }
}

async fn stream_task(
    source: Source,
    sink: Arc<Sink>,
    settings: Settings,
    start: oneshot::Receiver<u64>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut abort: watch::Receiver<Option<u64>>,
    resume: Arc<Notify>,
) {
    let _live = Live::new(&counters::STREAM_TASKS);
    let Ok(token) = start.await else {
        // Freed before it was started: nobody is interested in the outcome of queued sends.
        drain(&mut commands, None, Status::Closed, 0, "stream freed").await;
        return;
    };
    let opened = match source {
        Source::Accepted(send, recv) => Ok((send, recv)),
        Source::Open(connection) => tokio::select! {
            opened = connection.open_bi() => opened.map_err(|e| classify_connection_error(&e)),
            _ = abort.changed() => Err((Status::Closed, 0, "stream aborted before it opened".to_owned())),
        },
    };
    match opened {
        Ok((send, recv)) => {
            let write_abort = abort.clone();
            tokio::join!(
                write_loop(send, &mut commands, write_abort, &sink, token),
                read_loop(recv, &mut abort, &resume, &sink, settings, token)
            );
        }
        Err((status, code, message)) => {
            sink.emit(&[MeshQuicEvent::failed(EventKind::StreamAborted, token, status, code, &message)]);
            drain(&mut commands, Some((&sink, token)), status, code, &message).await;
        }
    }
}

/// Completes every queued and future send with a failure until the handle is freed.
async fn drain(commands: &mut mpsc::UnboundedReceiver<Command>, report: Option<(&Sink, u64)>, status: Status, code: u64, message: &str) {
    while let Some(command) = commands.recv().await {
        if let Command::Send { data, token: send_token, .. } = command {
            counters::QUEUED_SEND_BYTES.fetch_sub(data.len() as i64, Ordering::AcqRel);
            if let Some((sink, token)) = report {
                let event = MeshQuicEvent { aux: send_token, ..MeshQuicEvent::failed(EventKind::SendCompleted, token, status, code, message) };
                sink.emit(&[event]);
            }
        }
    }
}

/// Resolves with the code of an explicit `abort`; never resolves when the handle is merely freed,
/// so sends queued before a free still go out.
async fn aborted(abort: &mut watch::Receiver<Option<u64>>) -> u64 {
    loop {
        if let Some(code) = *abort.borrow_and_update() {
            return code;
        }
        if abort.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The code to stop reading with: the one given to `abort`, or 0 when the handle was freed.
fn stop_code(abort: &watch::Receiver<Option<u64>>) -> quinn::VarInt {
    abort.borrow().and_then(|code| quinn::VarInt::from_u64(code).ok()).unwrap_or(quinn::VarInt::from_u32(0))
}

async fn write_loop(
    mut send: quinn::SendStream,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    mut abort: watch::Receiver<Option<u64>>,
    sink: &Sink,
    token: u64,
) {
    let mut finished = false;
    // Sends queued while the previous write was in progress go to quinn together, without copying (quinn takes the
    // buffers as they are), and are reported with one SendCompleted event whose `aux` is the sum of their tokens.
    let mut batch: Vec<Bytes> = Vec::with_capacity(16);
    let mut next: Option<Command> = None;
    loop {
        let command = match next.take() {
            Some(command) => command,
            None => match commands.recv().await {
                Some(command) => command,
                None => break,
            },
        };
        match command {
            Command::Send { data, fin, token: send_token } => {
                let mut len = data.len();
                let mut tokens = send_token;
                let mut fin = fin;
                batch.push(Bytes::from(data));
                while !fin {
                    match commands.try_recv() {
                        Ok(Command::Send { data, fin: last, token: send_token }) => {
                            len += data.len();
                            tokens = tokens.wrapping_add(send_token);
                            fin = last;
                            batch.push(Bytes::from(data));
                        }
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let mut result = if finished { Err(Error::new(Status::Closed, "stream already finished")) } else { Ok(()) };
                if result.is_ok() {
                    result = tokio::select! {
                        written = send.write_all_chunks(&mut batch) => written.map_err(|e| {
                            let (status, _, message) = classify_write_error(&e);
                            Error::new(status, message)
                        }),
                        code = aborted(&mut abort) => {
                            finished = true;
                            let _ = send.reset(quinn::VarInt::from_u64(code).unwrap_or(quinn::VarInt::from_u32(0)));
                            Err(Error::new(Status::Closed, "stream aborted"))
                        }
                    };
                }
                batch.clear();
                counters::QUEUED_SEND_BYTES.fetch_sub(len as i64, Ordering::AcqRel);
                if result.is_ok() {
                    counters::BYTES_SENT.fetch_add(len as i64, Ordering::AcqRel);
                    if fin {
                        finished = true;
                        let _ = send.finish();
                    }
                }
                let event = match &result {
                    Ok(()) => MeshQuicEvent { aux: tokens, ..MeshQuicEvent::new(EventKind::SendCompleted, token) },
                    Err(e) => MeshQuicEvent { aux: tokens, ..MeshQuicEvent::failed(EventKind::SendCompleted, token, e.status, 0, &e.message) },
                };
                sink.emit(&[event]);
            }
            Command::Abort { code } => {
                if !finished {
                    finished = true;
                    let _ = send.reset(code);
                }
            }
        }
    }
    // The handle was freed: a send side that was never finished is abandoned, not completed.
    if !finished {
        let _ = send.reset(quinn::VarInt::from_u32(0));
    }
}

/// Reusable storage for one batch of StreamData events. It holds raw pointers into `chunks` only
/// between filling and `emit`, never across an await, so moving it between threads is sound.
struct EventBatch(Vec<MeshQuicEvent>);

// SAFETY: see EventBatch; the vector is empty whenever the task can be suspended.
unsafe impl Send for EventBatch {}

async fn read_loop(
    mut recv: quinn::RecvStream,
    abort: &mut watch::Receiver<Option<u64>>,
    resume: &Notify,
    sink: &Sink,
    settings: Settings,
    token: u64,
) {
    // Allocated once per stream and reused for every batch.
    let mut chunks: Vec<Bytes> = vec![Bytes::new(); settings.receive_batch_chunks];
    let mut events = EventBatch(Vec::with_capacity(settings.receive_batch_chunks));
    loop {
        let read = tokio::select! {
            read = recv.read_chunks(&mut chunks) => read,
            _ = abort.changed() => {
                let _ = recv.stop(stop_code(abort));
                return;
            }
        };
        match read {
            Ok(Some(count)) => {
                events.0.clear();
                let mut bytes = 0usize;
                for chunk in &chunks[..count] {
                    bytes += chunk.len();
                    events.0.push(MeshQuicEvent { data: chunk.as_ptr(), len: chunk.len(), ..MeshQuicEvent::new(EventKind::StreamData, token) });
                }
                counters::BYTES_RECEIVED.fetch_add(bytes as i64, Ordering::AcqRel);
                let answer = sink.emit(&events.0);
                events.0.clear();
                for chunk in &mut chunks[..count] {
                    *chunk = Bytes::new();
                }
                match answer {
                    None => return,
                    Some(PAUSE_READING) => {
                        tokio::select! {
                            _ = resume.notified() => {}
                            _ = abort.changed() => {
                                let _ = recv.stop(stop_code(abort));
                                return;
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            Ok(None) => {
                sink.emit(&[MeshQuicEvent::new(EventKind::StreamFinished, token)]);
                return;
            }
            Err(e) => {
                let (status, code, message) = classify_read_error(&e);
                sink.emit(&[MeshQuicEvent::failed(EventKind::StreamAborted, token, status, code, &message)]);
                return;
            }
        }
    }
}
