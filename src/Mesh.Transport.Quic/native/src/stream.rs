//! A bidirectional stream handle and the task that writes its sends and reads its data.
//!
//! A send is written into quinn on the calling thread when it can be (the stream is open, nothing
//! of an earlier send waits in the task, quinn takes every byte at once): quinn copies the bytes
//! and wakes its connection driver, and the call reports the send complete, with no event and no
//! hop through the stream's task. Otherwise what quinn did not take is copied into one buffer and
//! queued to the stream's task, which writes it in order and reports it with a SendCompleted event.
//! Reads hand quinn's received chunks to managed code in batches, without copying, for the duration
//! of one callback.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

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

/// How a send ended up: written into quinn by the call itself, or queued to the stream's task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Every byte is in quinn; no SendCompleted event follows.
    Written,
    /// (Part of) the batch waits in the task; a SendCompleted event reports it.
    Queued,
}

/// The send side shared by the calling thread's fast path and the stream's task.
struct SendSide {
    /// quinn's send stream once it is open; the task takes it out when the handle is freed.
    stream: Mutex<Option<quinn::SendStream>>,
    /// Sends queued to the task and not yet written: while any is, new sends queue behind them.
    queued: AtomicUsize,
    /// Finished or aborted: every later send goes through the task, which reports why it failed.
    closed: AtomicBool,
}

impl SendSide {
    fn lock(&self) -> MutexGuard<'_, Option<quinn::SendStream>> {
        self.stream.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Polls one write of `data` into `stream` once: the bytes quinn took (possibly 0), or its error.
fn try_write(stream: &mut quinn::SendStream, data: &[u8]) -> std::result::Result<usize, quinn::WriteError> {
    let mut cx = Context::from_waker(Waker::noop());
    let polled = pin!(stream.write(data)).poll(&mut cx);
    match polled {
        Poll::Ready(result) => result,
        // Flow control is full; quinn keeps the no-op waker until the task registers its own.
        Poll::Pending => Ok(0),
    }
}

/// What `mesh_quic_connection_open_stream` and StreamAccepted events hand out.
/// Dropping it resets a send side that was never finished and stops reading.
pub struct StreamHandle {
    commands: mpsc::UnboundedSender<Command>,
    side: Arc<SendSide>,
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
        let side = Arc::new(SendSide { stream: Mutex::new(None), queued: AtomicUsize::new(0), closed: AtomicBool::new(false) });
        let task = TaskEnds { start: start_rx, commands: commands_rx, abort: abort_rx, resume: resume.clone(), side: side.clone() };
        tokio::spawn(stream_task(source, sink, settings, task));
        Self {
            commands,
            side,
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

    /// Writes `buffers` into quinn on this thread when it can (see the module's documentation),
    /// else copies what is left into one batch and queues it; `fin` finishes the send side after it.
    ///
    /// # Safety
    /// Every buffer must be valid for the duration of the call.
    pub unsafe fn send(&self, buffers: &[MeshQuicBytes], fin: bool, token: u64) -> Result<Sent> {
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
        // (buffer index, offset in it) of the first byte quinn has not taken.
        let (mut index, mut offset) = (0usize, 0usize);
        if fin {
            // Finishing goes through the task, which knows whether the stream already ended.
            self.side.closed.store(true, Ordering::Release);
        } else if self.side.queued.load(Ordering::Acquire) == 0 && !self.side.closed.load(Ordering::Acquire) {
            let mut guard = self.side.lock();
            if let Some(stream) = guard.as_mut() {
                while index < buffers.len() {
                    // SAFETY: the caller guarantees every buffer for the duration of the call.
                    let buffer = unsafe { buffers[index].as_slice() }?;
                    if offset == buffer.len() {
                        index += 1;
                        offset = 0;
                        continue;
                    }
                    let written = try_write(stream, &buffer[offset..]).map_err(|e| {
                        let (status, _, message) = classify_write_error(&e);
                        Error::new(status, message)
                    })?;
                    if written == 0 {
                        break;
                    }
                    offset += written;
                    counters::BYTES_SENT.fetch_add(written as i64, Ordering::AcqRel);
                }
                if index == buffers.len() {
                    return Ok(Sent::Written);
                }
            }
        }
        let mut data = Vec::with_capacity(total);
        for (i, b) in buffers.iter().enumerate().skip(index) {
            // SAFETY: the caller guarantees every buffer for the duration of the call.
            let slice = unsafe { b.as_slice() }?;
            data.extend_from_slice(if i == index { &slice[offset..] } else { slice });
        }
        counters::QUEUED_SEND_BYTES.fetch_add(data.len() as i64, Ordering::AcqRel);
        // Counted before the task can see the command, so no later send overtakes it on the fast path.
        self.side.queued.fetch_add(1, Ordering::AcqRel);
        self.commands.send(Command::Send { data, fin, token }).map_err(|e| {
            self.side.queued.fetch_sub(1, Ordering::AcqRel);
            if let Command::Send { data, .. } = e.0 {
                counters::QUEUED_SEND_BYTES.fetch_sub(data.len() as i64, Ordering::AcqRel);
            }
            Error::new(Status::Closed, "stream closed")
        })?;
        Ok(Sent::Queued)
    }

    pub fn resume_reading(&self) {
        self.resume.notify_one();
    }

    pub fn abort(&self, code: u64) -> Result<()> {
        let code = quinn::VarInt::from_u64(code).map_err(|_| Error::new(Status::InvalidArgument, "error code above 2^62"))?;
        self.side.closed.store(true, Ordering::Release);
        let _ = self.abort.send(Some(code.into_inner()));
        self.commands.send(Command::Abort { code }).map_err(|_| Error::new(Status::Closed, "stream closed"))
    }
}

/// The task's ends of what the handle shares with it.
struct TaskEnds {
    start: oneshot::Receiver<u64>,
    commands: mpsc::UnboundedReceiver<Command>,
    abort: watch::Receiver<Option<u64>>,
    resume: Arc<Notify>,
    side: Arc<SendSide>,
}

async fn stream_task(source: Source, sink: Arc<Sink>, settings: Settings, task: TaskEnds) {
    let TaskEnds { start, mut commands, mut abort, resume, side } = task;
    let _live = Live::new(&counters::STREAM_TASKS);
    let Ok(token) = start.await else {
        // Freed before it was started: nobody is interested in the outcome of queued sends.
        drain(&mut commands, None, &side, Status::Closed, 0, "stream freed").await;
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
            *side.lock() = Some(send);
            let write_abort = abort.clone();
            tokio::join!(
                write_loop(&side, &mut commands, write_abort, &sink, token),
                read_loop(recv, &mut abort, &resume, &sink, settings, token)
            );
        }
        Err((status, code, message)) => {
            sink.emit(&[MeshQuicEvent::failed(EventKind::StreamAborted, token, status, code, &message)]);
            drain(&mut commands, Some((&sink, token)), &side, status, code, &message).await;
        }
    }
}

/// Completes every queued and future send with a failure until the handle is freed.
async fn drain(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    report: Option<(&Sink, u64)>,
    side: &SendSide,
    status: Status,
    code: u64,
    message: &str,
) {
    while let Some(command) = commands.recv().await {
        if let Command::Send { data, token: send_token, .. } = command {
            counters::QUEUED_SEND_BYTES.fetch_sub(data.len() as i64, Ordering::AcqRel);
            side.queued.fetch_sub(1, Ordering::AcqRel);
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

/// Writes all of `data` through the shared send side, holding its lock only while polling.
async fn write_all(side: &SendSide, data: &[u8]) -> Result<()> {
    let mut offset = 0;
    while offset < data.len() {
        let written = std::future::poll_fn(|cx| {
            let mut guard = side.lock();
            let Some(stream) = guard.as_mut() else {
                return Poll::Ready(Err(Error::new(Status::Closed, "stream closed")));
            };
            let polled = pin!(stream.write(&data[offset..])).poll(cx);
            polled.map_err(|e| {
                let (status, _, message) = classify_write_error(&e);
                Error::new(status, message)
            })
        })
        .await?;
        offset += written;
    }
    Ok(())
}

async fn write_loop(
    side: &SendSide,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    mut abort: watch::Receiver<Option<u64>>,
    sink: &Sink,
    token: u64,
) {
    let mut finished = false;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Send { data, fin, token: send_token } => {
                let len = data.len();
                let mut result = if finished { Err(Error::new(Status::Closed, "stream already finished")) } else { Ok(()) };
                if result.is_ok() {
                    result = tokio::select! {
                        written = write_all(side, &data) => written,
                        code = aborted(&mut abort) => {
                            finished = true;
                            if let Some(stream) = side.lock().as_mut() {
                                let _ = stream.reset(quinn::VarInt::from_u64(code).unwrap_or(quinn::VarInt::from_u32(0)));
                            }
                            Err(Error::new(Status::Closed, "stream aborted"))
                        }
                    };
                }
                counters::QUEUED_SEND_BYTES.fetch_sub(len as i64, Ordering::AcqRel);
                if result.is_ok() {
                    counters::BYTES_SENT.fetch_add(len as i64, Ordering::AcqRel);
                    if fin {
                        finished = true;
                        if let Some(stream) = side.lock().as_mut() {
                            let _ = stream.finish();
                        }
                    }
                }
                // Written (or failed) before the count drops: a fast-path send after this lands behind it.
                side.queued.fetch_sub(1, Ordering::AcqRel);
                let event = match &result {
                    Ok(()) => MeshQuicEvent { aux: send_token, ..MeshQuicEvent::new(EventKind::SendCompleted, token) },
                    Err(e) => MeshQuicEvent { aux: send_token, ..MeshQuicEvent::failed(EventKind::SendCompleted, token, e.status, 0, &e.message) },
                };
                sink.emit(&[event]);
            }
            Command::Abort { code } => {
                if !finished {
                    finished = true;
                    if let Some(stream) = side.lock().as_mut() {
                        let _ = stream.reset(code);
                    }
                }
            }
        }
    }
    // The handle was freed: a send side that was never finished is abandoned, not completed.
    let stream = side.lock().take();
    if let (Some(mut stream), false) = (stream, finished) {
        let _ = stream.reset(quinn::VarInt::from_u32(0));
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
