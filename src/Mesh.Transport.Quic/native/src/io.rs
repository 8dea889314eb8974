//! What an endpoint's connections share: the UDP socket, the event sink, and the I/O thread's wake-up.
//!
//! Any thread may send: the thread that writes a stream's data encrypts and sends its packets itself. Only the
//! endpoint's I/O thread receives and keeps the timers. It sleeps in `ppoll` until a datagram arrives, the earliest
//! connection deadline passes, or another thread writes the eventfd because it needs the I/O thread sooner: a
//! connection whose deadline moved earlier than the I/O thread's sleep, a stream that was started or resumed, a new
//! connection. A send that only moves a deadline later (the usual case under load) wakes nobody.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quinn_proto as proto;

use crate::config::Settings;
use crate::error::{Error, Result, Status};
use crate::events::Sink;

/// `sleeping_until` while the I/O thread is working (it looks at every deadline again before it sleeps).
pub const AWAKE: u64 = 0;
/// A deadline that never comes.
pub const NEVER: u64 = u64::MAX;

/// How long a sender waits for room in the socket's send buffer before it drops a datagram (QUIC then resends it).
const SEND_WAIT: Duration = Duration::from_millis(5);

pub struct Io {
    pub socket: std::net::UdpSocket,
    pub udp: quinn_udp::UdpSocketState,
    pub sink: Arc<Sink>,
    pub settings: Settings,
    /// Most datagrams one `poll_transmit` may return (GSO segments).
    pub max_segments: usize,
    wake: OwnedFd,
    /// When the I/O thread will wake by itself, as `nanos`; `AWAKE` while it works.
    sleeping_until: AtomicU64,
    epoch: Instant,
    stopped: AtomicBool,
}

impl Io {
    pub fn new(socket: std::net::UdpSocket, sink: Arc<Sink>, settings: Settings) -> Result<Self> {
        let io_error = |what: &str, e: io::Error| Error::new(Status::Io, format!("{what}: {e}"));
        let udp = quinn_udp::UdpSocketState::new((&socket).into()).map_err(|e| io_error("UDP socket options", e))?;
        socket.set_nonblocking(true).map_err(|e| io_error("non-blocking socket", e))?;
        // SAFETY: eventfd has no preconditions; a non-negative result is a new descriptor that we own.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io_error("eventfd", io::Error::last_os_error()));
        }
        // SAFETY: `fd` is a fresh descriptor owned by nobody else.
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        let max_segments = udp.max_gso_segments().clamp(1, crate::config::QUINN_MAX_TRANSMIT_SEGMENTS);
        Ok(Self {
            socket,
            udp,
            sink,
            settings,
            max_segments,
            wake,
            sleeping_until: AtomicU64::new(AWAKE),
            epoch: Instant::now(),
            stopped: AtomicBool::new(false),
        })
    }

    /// `t` as nanoseconds since this endpoint began, never `AWAKE`.
    pub fn nanos(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.epoch).as_nanos() as u64).saturating_add(1).min(NEVER - 1)
    }

    fn instant(&self, nanos: u64) -> Instant {
        self.epoch + Duration::from_nanos(nanos.saturating_sub(1))
    }

    /// Wakes the I/O thread if it sleeps past `nanos`. Callers first publish what the I/O thread must see.
    pub fn wake_before(&self, nanos: u64) {
        if nanos < self.sleeping_until.load(Ordering::SeqCst) {
            self.wake();
        }
    }

    /// Wakes the I/O thread if it sleeps.
    pub fn wake_if_sleeping(&self) {
        if self.sleeping_until.load(Ordering::SeqCst) != AWAKE {
            self.wake();
        }
    }

    pub fn wake(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd; a full counter (EAGAIN) already means "wake".
        let _ = unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// I/O thread: about to look at every deadline, then sleep until `nanos` unless one moved.
    pub fn set_sleeping_until(&self, nanos: u64) {
        self.sleeping_until.store(nanos, Ordering::SeqCst);
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// I/O thread: sleeps until the socket is readable, the eventfd is written, or `until` (nanos) passes.
    pub fn sleep(&self, until: u64) {
        let mut fds = [
            libc::pollfd { fd: self.socket.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        let timeout = (until != NEVER).then(|| {
            let left = self.instant(until).saturating_duration_since(Instant::now());
            libc::timespec { tv_sec: left.as_secs() as libc::time_t, tv_nsec: left.subsec_nanos() as libc::c_long }
        });
        let timeout_ptr = timeout.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: two valid pollfds, a valid or null timespec, no signal mask.
        unsafe { libc::ppoll(fds.as_mut_ptr(), 2, timeout_ptr, std::ptr::null()) };
        if fds[1].revents != 0 {
            let mut count = 0u64;
            // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
            let _ = unsafe { libc::read(self.wake.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
        }
    }

    /// Sends one transmit that `poll_transmit` wrote into `buf`. A full send buffer is waited out briefly; a datagram
    /// that still does not fit is dropped, and QUIC's loss recovery sends its data again (as it does for a datagram the
    /// network loses).
    pub fn send(&self, t: &proto::Transmit, buf: &[u8]) {
        let transmit = quinn_udp::Transmit {
            destination: t.destination,
            ecn: t.ecn.map(|e| match e {
                proto::EcnCodepoint::Ect0 => quinn_udp::EcnCodepoint::Ect0,
                proto::EcnCodepoint::Ect1 => quinn_udp::EcnCodepoint::Ect1,
                proto::EcnCodepoint::Ce => quinn_udp::EcnCodepoint::Ce,
            }),
            contents: &buf[..t.size],
            segment_size: t.segment_size,
            src_ip: t.src_ip,
        };
        for attempt in 0..2 {
            match self.udp.try_send((&self.socket).into(), &transmit) {
                Ok(()) => return,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && attempt == 0 => {
                    let mut fd = libc::pollfd { fd: self.socket.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
                    // SAFETY: one valid pollfd.
                    unsafe { libc::poll(&mut fd, 1, SEND_WAIT.as_millis() as libc::c_int) };
                }
                Err(_) => return,
            }
        }
    }
}
