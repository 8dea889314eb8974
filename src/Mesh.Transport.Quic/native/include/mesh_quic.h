/*
 * mesh_quic: the C ABI of Mesh's native QUIC library (quinn + rustls + ring, linked statically).
 * The Rust sources in ../src are the reference; this header documents the same ABI for readers and
 * for C callers. ABI version 5 (mesh_quic_abi_version()).
 *
 * Conventions
 * - Handles are opaque. Each one is freed exactly once with its *_free function; freeing NULL is a
 *   no-op. Handles delivered in events belong to the callback's owner from that moment.
 * - Calls return mesh_quic_status; on failure mesh_quic_last_error() returns the message of the last
 *   failed call on the same thread.
 * - Strings and buffers are (pointer, length) pairs of UTF-8 / bytes, borrowed for the call only.
 * - Everything asynchronous is reported through the endpoint's callback, in batches: on the
 *   endpoint's I/O thread, except SEND_COMPLETED, which also arrives on the thread that calls
 *   mesh_quic_stream_send, before that call returns, when QUIC takes the whole send at once.
 *   Event data is valid only during the callback. The receive events of one stream (data,
 *   finished, aborted) are never delivered concurrently. The callback must not block and must not
 *   free its endpoint.
 */
#ifndef MESH_QUIC_H
#define MESH_QUIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesh_quic_endpoint mesh_quic_endpoint;
typedef struct mesh_quic_connection mesh_quic_connection;
typedef struct mesh_quic_stream mesh_quic_stream;

typedef enum mesh_quic_status {
    MESH_QUIC_OK = 0,
    MESH_QUIC_INVALID_ARGUMENT = 1,
    MESH_QUIC_INVALID_CONFIG = 2,
    MESH_QUIC_IO = 3,
    MESH_QUIC_CONNECT_FAILED = 4,
    MESH_QUIC_HANDSHAKE_FAILED = 5,   /* aux: 0x100 + TLS alert where one was sent */
    MESH_QUIC_CONNECTION_CLOSED = 6,  /* by the peer; aux: its application code */
    MESH_QUIC_CONNECTION_LOST = 7,
    MESH_QUIC_TIMED_OUT = 8,
    MESH_QUIC_STREAM_ABORTED = 9,     /* aux: the peer's application code */
    MESH_QUIC_CLOSED = 10,            /* closed locally */
    MESH_QUIC_INVALID_STATE = 11,
    MESH_QUIC_INTERNAL = 12,
    MESH_QUIC_PANIC = 13
} mesh_quic_status;

typedef enum mesh_quic_event_kind {
    MESH_QUIC_EVENT_CONNECTION_ACCEPTED = 1, /* handle: new connection; call mesh_quic_connection_start */
    MESH_QUIC_EVENT_CONNECT_COMPLETED = 2,   /* token: the connect's; handle: connection on success */
    MESH_QUIC_EVENT_INCOMING_FAILED = 3,     /* a peer's handshake was refused by this server */
    MESH_QUIC_EVENT_CONNECTION_CLOSED = 4,   /* token: connection's */
    MESH_QUIC_EVENT_STREAM_ACCEPTED = 5,     /* token: connection's; handle: new stream; call mesh_quic_stream_start */
    MESH_QUIC_EVENT_STREAM_DATA = 6,         /* token: stream's; data/len: received bytes */
    MESH_QUIC_EVENT_STREAM_FINISHED = 7,     /* token: stream's; the peer will send no more */
    MESH_QUIC_EVENT_STREAM_ABORTED = 8,      /* token: stream's */
    MESH_QUIC_EVENT_SEND_COMPLETED = 9       /* token: stream's; aux: sum of the send tokens it reports (sends queued together) */
} mesh_quic_event_kind;

typedef struct mesh_quic_bytes {
    const uint8_t *ptr;
    size_t len;
} mesh_quic_bytes;

typedef struct mesh_quic_event {
    uint32_t kind;      /* mesh_quic_event_kind */
    int32_t status;     /* mesh_quic_status */
    uint64_t token;
    uint64_t aux;
    void *handle;
    const uint8_t *data; /* received bytes, or the UTF-8 failure message */
    size_t len;
} mesh_quic_event;

/* Return MESH_QUIC_PAUSE_READING from a batch of MESH_QUIC_EVENT_STREAM_DATA events to pause that stream until
 * mesh_quic_stream_resume_reading; any other value continues. */
#define MESH_QUIC_PAUSE_READING 1
typedef int32_t (*mesh_quic_event_fn)(void *context, const mesh_quic_event *events, size_t count);

#define MESH_QUIC_FLAG_ACCEPT_INCOMING 1u
#define MESH_QUIC_SEND_FIN 1u

/* Numeric fields left 0 take the default in parentheses. */
typedef struct mesh_quic_config {
    uint32_t size;                   /* sizeof(mesh_quic_config) */
    uint32_t flags;                  /* MESH_QUIC_FLAG_ACCEPT_INCOMING */
    mesh_quic_bytes bind_address;    /* "127.0.0.1:0", "[::]:4433" */
    mesh_quic_bytes cert_chain;      /* PEM (leaf first) or one DER cert; empty: client without cert */
    mesh_quic_bytes private_key;     /* PEM (PKCS#8/SEC1/PKCS#1) or PKCS#8 DER */
    mesh_quic_bytes trusted_ca;      /* PEM or DER; both sides are verified against it */
    mesh_quic_bytes alpn;            /* e.g. "mesh/1" */
    uint64_t idle_timeout_ms;        /* (30000) */
    uint64_t keep_alive_interval_ms; /* (5000) */
    uint32_t max_send_batch_bytes;   /* largest mesh_quic_stream_send batch (16 MiB) */
    uint32_t max_bidi_streams;       /* (100) */
    uint32_t stream_receive_window;  /* (1 MiB) */
    uint32_t receive_batch_chunks;   /* chunks per STREAM_DATA callback (64) */
    mesh_quic_event_fn callback;     /* required */
    void *context;                   /* valid until mesh_quic_endpoint_free returns */
    mesh_quic_bytes pinned_sha256;   /* SHA-256 of accepted peer leaves, 32 bytes each; may be empty */
    uint32_t receive_spin_us;        /* I/O thread stays awake this long after its last work, at most 10000
                                        (0: sleeps at once, no default) */
} mesh_quic_config;

typedef struct mesh_quic_counters_t {
    int64_t endpoint_handles;
    int64_t connection_handles;
    int64_t stream_handles;
    int64_t connection_tasks;
    int64_t stream_tasks;
    int64_t queued_send_bytes;
    int64_t bytes_sent;
    int64_t bytes_received;
    int64_t heap_bytes;    /* live heap bytes of the library (every allocation goes through a counting allocator) */
    int64_t heap_blocks;   /* live heap allocations */
} mesh_quic_counters_t;

uint32_t mesh_quic_abi_version(void);
size_t mesh_quic_last_error(uint8_t *buf, size_t capacity);
int32_t mesh_quic_counters(mesh_quic_counters_t *out);

int32_t mesh_quic_endpoint_create(const mesh_quic_config *config, mesh_quic_endpoint **out);
int32_t mesh_quic_endpoint_local_port(const mesh_quic_endpoint *endpoint, uint16_t *port);
int32_t mesh_quic_endpoint_open_connections(const mesh_quic_endpoint *endpoint, uint64_t *count);
int32_t mesh_quic_endpoint_connect(const mesh_quic_endpoint *endpoint, mesh_quic_bytes address,
                                   mesh_quic_bytes server_name, uint64_t token);
void mesh_quic_endpoint_free(mesh_quic_endpoint *endpoint);

int32_t mesh_quic_connection_start(const mesh_quic_connection *connection, uint64_t token);
int32_t mesh_quic_connection_open_stream(const mesh_quic_connection *connection, uint64_t token,
                                         mesh_quic_stream **out);
/* Copies certificate `index` of the peer's chain (DER; 0 is the leaf, then the intermediates it sent) into buf (up to
 * capacity) and writes its full length (0: past the end of the chain, or no certificate). */
int32_t mesh_quic_connection_peer_certificate(const mesh_quic_connection *connection, size_t index, uint8_t *buf,
                                              size_t capacity, size_t *length);
/* Copies the peer's address as UTF-8 ("127.0.0.1:4433", "[::1]:4433") into buf (up to capacity) and writes its full
 * length. */
int32_t mesh_quic_connection_remote_address(const mesh_quic_connection *connection, uint8_t *buf, size_t capacity,
                                            size_t *length);
int32_t mesh_quic_connection_close(const mesh_quic_connection *connection, uint64_t code, mesh_quic_bytes reason);
void mesh_quic_connection_free(mesh_quic_connection *connection);

int32_t mesh_quic_stream_start(const mesh_quic_stream *stream, uint64_t token);
int32_t mesh_quic_stream_send(const mesh_quic_stream *stream, const mesh_quic_bytes *buffers, size_t count,
                              uint32_t flags, uint64_t send_token);
int32_t mesh_quic_stream_resume_reading(const mesh_quic_stream *stream);
int32_t mesh_quic_stream_abort(const mesh_quic_stream *stream, uint64_t code);
void mesh_quic_stream_free(mesh_quic_stream *stream);

#ifdef __cplusplus
}
#endif

#endif /* MESH_QUIC_H */
