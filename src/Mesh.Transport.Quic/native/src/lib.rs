//! mesh_quic: the QUIC transport of Mesh. quinn (with rustls and ring, linked statically) behind
//! a narrow C ABI that the managed `Mesh.Transport.Quic` calls through P/Invoke.
//!
//! Shape of the ABI (see `include/mesh_quic.h`):
//! - opaque handles for endpoints, connections and streams; each is freed exactly once by its
//!   `*_free` function (freeing null is a no-op);
//! - calls return a `Status`; on failure `mesh_quic_last_error` returns the message on that thread;
//! - one configuration struct per endpoint, carrying one callback through which every asynchronous
//!   outcome (connections, streams, received data, completed sends) arrives in batches;
//! - sends take many buffers per call; received chunks are lent for the duration of a callback.

#![deny(unsafe_op_in_unsafe_fn)]

mod config;
mod connection;
mod counters;
mod driver;
mod endpoint;
mod error;
mod events;
mod io;
mod stream;
mod verify;

#[cfg(test)]
mod datagram_tests;

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use config::{MeshQuicBytes, MeshQuicConfig, FLAG_ACCEPT_INCOMING, MAX_RECEIVE_SPIN_US};
pub use connection::ConnectionHandle;
pub use counters::MeshQuicCounters;
pub use endpoint::EndpointHandle;
pub use error::Status;
pub use events::{EventCallback, EventKind, MeshQuicEvent, PAUSE_READING};
pub use stream::StreamHandle;

use error::{Error, Result};

/// Bumped whenever a signature, struct layout or numbering of the ABI changes.
pub const ABI_VERSION: u32 = 5;

/// Runs `f`, turning errors and panics into a status code and the thread's last error message.
fn ffi(f: impl FnOnce() -> Result<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => Status::Ok as i32,
        Ok(Err(e)) => {
            error::set_last_error(&e.message);
            e.status as i32
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_owned());
            error::set_last_error(&format!("panic in mesh_quic: {message}"));
            Status::Panic as i32
        }
    }
}

/// Frees a handle; never unwinds into the caller.
fn free<T>(handle: *mut T) {
    if handle.is_null() {
        return;
    }
    // SAFETY: the handle came from Box::into_raw and the caller frees it exactly once.
    let boxed = unsafe { Box::from_raw(handle) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

fn handle_ref<'a, T>(handle: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: a non-null handle is a live Box<T> owned by the caller for the duration of the call.
    unsafe { handle.as_ref() }.ok_or_else(|| Error::new(Status::InvalidArgument, format!("null {what} handle")))
}

fn out_ptr<'a, T>(out: *mut T) -> Result<&'a mut T> {
    // SAFETY: a non-null out pointer points at writable storage for a T.
    unsafe { out.as_mut() }.ok_or_else(|| Error::new(Status::InvalidArgument, "null out pointer"))
}

/// The ABI version this library implements; managed code refuses a library that disagrees.
#[no_mangle]
pub extern "C" fn mesh_quic_abi_version() -> u32 {
    ABI_VERSION
}

/// Copies the message of the last failed call on this thread (UTF-8, no terminator) into `buf`
/// (up to `capacity` bytes) and returns the message's full length.
///
/// # Safety
/// `buf` must be writable for `capacity` bytes (or null with `capacity == 0`).
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_last_error(buf: *mut u8, capacity: usize) -> usize {
    let slice: &mut [u8] = if buf.is_null() || capacity == 0 {
        &mut []
    } else {
        // SAFETY: the caller guarantees `capacity` writable bytes.
        unsafe { std::slice::from_raw_parts_mut(buf, capacity) }
    };
    error::copy_last_error(slice)
}

/// Fills `out` with the process-wide counters of live handles, background tasks and bytes.
///
/// # Safety
/// `out` must point at a writable `MeshQuicCounters`.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_counters(out: *mut MeshQuicCounters) -> i32 {
    ffi(|| {
        *out_ptr(out)? = counters::snapshot();
        Ok(())
    })
}

/// Creates an endpoint bound to `config.bind_address`. Its events go to `config.callback`.
///
/// # Safety
/// `config` must point at a valid `MeshQuicConfig` whose byte ranges are readable during the call;
/// `out` must be writable. `config.context` must stay valid until `mesh_quic_endpoint_free` returns.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_endpoint_create(config: *const MeshQuicConfig, out: *mut *mut EndpointHandle) -> i32 {
    ffi(|| {
        let out = out_ptr(out)?;
        *out = std::ptr::null_mut();
        let config = handle_ref(config, "config")?;
        // SAFETY: the caller guarantees the config's byte ranges.
        let setup = unsafe { config.parse() }?;
        *out = Box::into_raw(Box::new(EndpointHandle::create(setup)?));
        Ok(())
    })
}

/// Writes the UDP port the endpoint is bound to (useful after binding port 0).
///
/// # Safety
/// `endpoint` must be a live endpoint handle; `port` writable.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_endpoint_local_port(endpoint: *const EndpointHandle, port: *mut u16) -> i32 {
    ffi(|| {
        let endpoint = handle_ref(endpoint, "endpoint")?;
        *out_ptr(port)? = endpoint.local_addr()?.port();
        Ok(())
    })
}

/// Writes how many connections of the endpoint quinn still tracks (including closing ones).
///
/// # Safety
/// `endpoint` must be a live endpoint handle; `count` writable.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_endpoint_open_connections(endpoint: *const EndpointHandle, count: *mut u64) -> i32 {
    ffi(|| {
        let endpoint = handle_ref(endpoint, "endpoint")?;
        *out_ptr(count)? = endpoint.open_connections() as u64;
        Ok(())
    })
}

/// Starts connecting to `address` ("ip:port"), verifying the server's certificate for
/// `server_name`. The outcome arrives as one ConnectCompleted event carrying `token`.
///
/// # Safety
/// `endpoint` must be a live endpoint handle; both byte ranges readable during the call.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_endpoint_connect(
    endpoint: *const EndpointHandle,
    address: MeshQuicBytes,
    server_name: MeshQuicBytes,
    token: u64,
) -> i32 {
    ffi(|| {
        let endpoint = handle_ref(endpoint, "endpoint")?;
        // SAFETY: the caller guarantees both byte ranges.
        let (address, server_name) = unsafe { (address.as_str("address")?, server_name.as_str("server name")?) };
        let address: SocketAddr = address.parse().map_err(|e| Error::new(Status::InvalidArgument, format!("address {address:?}: {e}")))?;
        endpoint.connect(address, server_name, token)
    })
}

/// Closes the endpoint and its connections and frees the handle. When it returns, no callback of
/// the endpoint is running or will run, so the callback's context may be released. Do not call it
/// from inside the callback (callbacks on other threads could still be running when it returns).
///
/// # Safety
/// `endpoint` must be a live endpoint handle (or null), not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_endpoint_free(endpoint: *mut EndpointHandle) {
    free(endpoint);
}

/// Names the token of an accepted connection and starts accepting its streams (StreamAccepted
/// and ConnectionClosed events carry `token`). Connections from `mesh_quic_endpoint_connect`
/// are started already.
///
/// # Safety
/// `connection` must be a live connection handle.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_connection_start(connection: *const ConnectionHandle, token: u64) -> i32 {
    ffi(|| handle_ref(connection, "connection")?.start(token))
}

/// Opens a bidirectional stream whose events carry `token`; it reaches the peer with its first bytes.
///
/// # Safety
/// `connection` must be a live connection handle; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_connection_open_stream(connection: *const ConnectionHandle, token: u64, out: *mut *mut StreamHandle) -> i32 {
    ffi(|| {
        let out = out_ptr(out)?;
        *out = std::ptr::null_mut();
        let connection = handle_ref(connection, "connection")?;
        *out = Box::into_raw(Box::new(connection.open_stream(token)));
        Ok(())
    })
}

/// Closes the connection with an application error code and reason; the handle stays valid
/// until freed, and a ConnectionClosed event follows.
///
/// # Safety
/// `connection` must be a live connection handle; `reason` readable during the call.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_connection_close(connection: *const ConnectionHandle, code: u64, reason: MeshQuicBytes) -> i32 {
    ffi(|| {
        let connection = handle_ref(connection, "connection")?;
        // SAFETY: the caller guarantees the byte range.
        let reason = unsafe { reason.as_slice()? };
        connection.close(code, reason)
    })
}

/// Copies the DER of certificate `index` of the peer's chain (0: the leaf, then the intermediates it sent) into
/// `buf` (up to `capacity` bytes) and writes its full length to `length` (0 past the chain's end, or when the peer
/// presented none).
///
/// # Safety
/// `connection` must be a live connection handle; `buf` writable for `capacity` bytes (or null with
/// `capacity == 0`); `length` writable.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_connection_peer_certificate(
    connection: *const ConnectionHandle,
    index: usize,
    buf: *mut u8,
    capacity: usize,
    length: *mut usize,
) -> i32 {
    ffi(|| {
        let connection = handle_ref(connection, "connection")?;
        let length = out_ptr(length)?;
        let cert = connection.peer_certificate(index);
        // SAFETY: the caller guarantees `capacity` writable bytes at `buf`.
        unsafe { copy_out(&cert, buf, capacity, length) };
        Ok(())
    })
}

/// Copies the peer's address as UTF-8 text ("127.0.0.1:4433", "[::1]:4433") into `buf` (up to `capacity` bytes) and
/// writes its full length to `length`.
///
/// # Safety
/// `connection` must be a live connection handle; `buf` writable for `capacity` bytes (or null with
/// `capacity == 0`); `length` writable.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_connection_remote_address(
    connection: *const ConnectionHandle,
    buf: *mut u8,
    capacity: usize,
    length: *mut usize,
) -> i32 {
    ffi(|| {
        let connection = handle_ref(connection, "connection")?;
        let length = out_ptr(length)?;
        let text = connection.remote_address().to_string();
        // SAFETY: the caller guarantees `capacity` writable bytes at `buf`.
        unsafe { copy_out(text.as_bytes(), buf, capacity, length) };
        Ok(())
    })
}

/// Writes `data.len()` to `length` and copies as much of `data` as fits into `buf`.
///
/// # Safety
/// `buf` must be writable for `capacity` bytes, or null.
unsafe fn copy_out(data: &[u8], buf: *mut u8, capacity: usize, length: &mut usize) {
    *length = data.len();
    if !buf.is_null() && capacity > 0 {
        let n = data.len().min(capacity);
        // SAFETY: the caller guarantees `capacity` writable bytes at `buf`; n <= capacity.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, n) };
    }
}

/// Closes the connection (if still open) and frees the handle.
///
/// # Safety
/// `connection` must be a live connection handle (or null), not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_connection_free(connection: *mut ConnectionHandle) {
    free(connection);
}

/// Names the token of an accepted stream and starts reading it. Streams from
/// `mesh_quic_connection_open_stream` are started already.
///
/// # Safety
/// `stream` must be a live stream handle.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_stream_start(stream: *const StreamHandle, token: u64) -> i32 {
    ffi(|| handle_ref(stream, "stream")?.start(token))
}

/// Bit of `mesh_quic_stream_send`'s flags: finish the send side after this batch.
pub const SEND_FIN: u32 = 1;

/// Copies `count` buffers into one batch and queues it for sending, in order with earlier sends.
/// A SendCompleted event reports when it has been written (or failed). Sends queued while an earlier
/// write was in progress are written and reported together: one event whose `aux` is the sum of
/// their `send_token`s (so a caller that passes each batch's length gets back the bytes written).
/// The buffers may be reused as soon as the call returns.
///
/// # Safety
/// `stream` must be a live stream handle; `buffers` must point at `count` valid `MeshQuicBytes`.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_stream_send(stream: *const StreamHandle, buffers: *const MeshQuicBytes, count: usize, flags: u32, send_token: u64) -> i32 {
    ffi(|| {
        let stream = handle_ref(stream, "stream")?;
        let buffers: &[MeshQuicBytes] = if count == 0 {
            &[]
        } else if buffers.is_null() {
            return Err(Error::new(Status::InvalidArgument, "null buffers with a non-zero count"));
        } else {
            // SAFETY: the caller guarantees `count` buffers.
            unsafe { std::slice::from_raw_parts(buffers, count) }
        };
        // SAFETY: the caller guarantees every buffer for the duration of the call.
        unsafe { stream.send(buffers, flags & SEND_FIN != 0, send_token) }
    })
}

/// Resumes reading a stream whose callback returned `PAUSE_READING`.
///
/// # Safety
/// `stream` must be a live stream handle.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_stream_resume_reading(stream: *const StreamHandle) -> i32 {
    ffi(|| {
        handle_ref(stream, "stream")?.resume_reading();
        Ok(())
    })
}

/// Abandons the stream in both directions with an application error code (RESET_STREAM and
/// STOP_SENDING). Sends not yet written complete with `Closed`.
///
/// # Safety
/// `stream` must be a live stream handle.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_stream_abort(stream: *const StreamHandle, code: u64) -> i32 {
    ffi(|| handle_ref(stream, "stream")?.abort(code))
}

/// Frees the stream handle. Sends queued before still go out; a send side never finished is
/// reset and reading stops.
///
/// # Safety
/// `stream` must be a live stream handle (or null), not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn mesh_quic_stream_free(stream: *mut StreamHandle) {
    free(stream);
}
