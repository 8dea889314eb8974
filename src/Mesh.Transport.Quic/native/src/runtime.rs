//! The one tokio runtime of the process that drives every endpoint, connection and stream.

use std::sync::OnceLock;

use crate::error::{Error, Result, Status};

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Overrides the number of worker threads (1 to 64), for tuning and measurement.
const WORKER_THREADS_VARIABLE: &str = "MESH_QUIC_WORKER_THREADS";

/// Worker threads: half the cores, at least one and at most four, unless `MESH_QUIC_WORKER_THREADS` says otherwise.
/// Each connection's work runs on one task at a time, so more workers only help with many busy connections, while
/// every extra worker competes with the managed thread pool (one thread per core) for the same cores. On 2 cores one
/// worker instead of two raised QUIC's 64-byte echo throughput from 64-69 % to 79-88 % of TCP's; the effect on a
/// 3-node cluster was within the machine's noise (docs/benchmarks.md, 2026-12-03).
fn worker_threads() -> usize {
    let configured = std::env::var(WORKER_THREADS_VARIABLE).ok().and_then(|v| v.trim().parse::<usize>().ok());
    match configured {
        Some(n) if n >= 1 => n.min(64),
        _ => std::thread::available_parallelism().map(|n| (n.get() / 2).clamp(1, 4)).unwrap_or(1),
    }
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
