//! The one tokio runtime of the process that drives every endpoint, connection and stream.

use std::sync::OnceLock;

use crate::error::{Error, Result, Status};

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Worker threads: QUIC work is mostly crypto and syscalls, so a couple of threads suffice;
/// more than four rarely helps a single process and competes with the managed thread pool.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get().clamp(1, 4)).unwrap_or(2)
}

pub fn get() -> Result<&'static tokio::runtime::Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(worker_threads())
                .thread_name("mesh-quic")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(Status::Internal, format!("tokio runtime: {e}")))
}
