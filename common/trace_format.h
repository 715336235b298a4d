/* trace_format.h — the nogilrace trace file format, shared by the writer (preload/) and the
 * reader (analyzer/).  docs/trace-format.md is the prose version of this file; keep them in step.
 *
 * Everything is little-endian.  Numbers here are the on-disk contract: never reuse an opcode or a
 * flag value for something else, never reorder fields.
 *
 * Compatibility rule (as Redis RDB_VERSION): a reader accepts a file whose major version equals its
 * own, whatever the minor.  A minor bump may only (a) add header fields inside header_size,
 * (b) add record opcodes, (c) add flag bits a reader may ignore.  Readers skip records with an
 * unknown opcode using their size.  Anything else is a major bump.
 *
 * Layout
 *   [file header, header_size bytes (4096)]
 *   [chunk 0][chunk 1]...            each exactly chunk_size bytes, chunk i at header_size + i*chunk_size
 *
 * A chunk belongs to one stream: stream 0 is metadata (strings, variable/stack/lock names, process
 * facts), stream N >= 1 is the events of thread number N (threads are numbered by creation; the
 * thread that activated tracing, normally the main thread, is 1).  A stream's chunks are ordered by
 * stream_seq.  Inside a chunk, after its header, records follow back to back; a zero word ends the
 * data (the file is zero-filled before use).
 *
 * Crash safety: the writer stores a record's later words first and its first word last, with
 * release order, into a shared file mapping.  A process killed at any instant therefore leaves
 * records that are either complete or absent (word 0 still zero).  A chunk is sealed (payload length
 * and CRC-32C filled in) when its stream moves on to the next chunk or the process ends cleanly;
 * an unsealed chunk is read up to its first zero word and reported as incomplete.
 *
 * Ordering: every synchronisation record (SYNC, THREAD) carries a process-wide sequence number from
 * one atomic counter.  Access records carry none: they sit between the sync records of their
 * thread, which is all a happens-before/lockset analysis needs.
 */
#ifndef NGR_TRACE_FORMAT_H
#define NGR_TRACE_FORMAT_H

#include <stdint.h>

#define NGR_TRACE_MAGIC "NGRTRACE" /* 8 bytes, no terminator on disk */
#define NGR_TRACE_MAJOR 1
#define NGR_TRACE_MINOR 1 /* 1.1: NGR_OP_MARK */
#define NGR_TRACE_SUFFIX ".ngrtrace"

#define NGR_HEADER_SIZE 4096u               /* v1 writers; readers use the header's own field */
#define NGR_CHUNK_SIZE_DEFAULT (64u * 1024u)
#define NGR_CHUNK_MAGIC 0x4b43474eu          /* "NGCK" read as little-endian bytes */

/* ---- file header ------------------------------------------------------------------------- */

enum ngr_header_flags {
    NGR_HDR_FINISHED = 1u << 0,   /* the process ended cleanly (exit, or exec) and sealed every chunk */
    NGR_HDR_EXEC = 1u << 1,       /* ... and the end was an exec */
    NGR_HDR_DISABLED = 1u << 2,   /* tracing stopped early (disk full, write error); see metadata */
    NGR_HDR_FORKED = 1u << 3,     /* this process is a fork child; parent_trace_id names the parent */
};

struct ngr_file_header {
    char magic[8];              /* NGR_TRACE_MAGIC */
    uint16_t major, minor;
    uint32_t header_size;       /* offset of chunk 0 */
    uint32_t chunk_size;        /* bytes per chunk, header included; multiple of 4096 */
    uint32_t flags;             /* enum ngr_header_flags; FINISHED written last at a clean end */
    uint64_t trace_id;          /* random, unique per trace file */
    uint64_t parent_trace_id;   /* trace of the process this one was forked from, else 0 */
    uint32_t parent_thread;     /* thread number in the parent that called fork, else 0 */
    uint32_t pid, ppid;
    uint32_t reserved0;
    uint64_t start_realtime_ns; /* CLOCK_REALTIME when the trace was created */
    uint64_t chunk_count;       /* chunks in use, written at a clean end (0 = unknown: scan) */
    /* v1 ends here: 72 bytes; the rest of header_size is zero. */
};

/* ---- chunk header ------------------------------------------------------------------------ */

struct ngr_chunk_header {
    uint32_t magic;        /* NGR_CHUNK_MAGIC; zero for a chunk never handed out */
    uint32_t stream;       /* 0 = metadata, N >= 1 = thread number N */
    uint32_t stream_seq;   /* 0, 1, 2 ... within the stream */
    uint32_t sealed_len;   /* payload bytes after this header once sealed, else 0 */
    uint32_t crc32c;       /* CRC-32C (Castagnoli) of those payload bytes once sealed */
    uint32_t reserved;
    uint64_t first_seq;    /* lowest sequence number in the chunk's records, 0 when none/unknown */
};
#define NGR_CHUNK_HEADER_SIZE 32u

/* ---- records ----------------------------------------------------------------------------- */

/* Word 0 of every record:
 *   bits  0..7   opcode (never 0: a zero word ends a chunk's data)
 *   bits  8..15  size of the whole record in 8-byte words, word 0 included (1..255)
 *   bits 16..31  flags, per opcode
 *   bits 32..63  arg, per opcode
 */
static inline uint64_t ngr_word0(unsigned op, unsigned words, unsigned flags, uint32_t arg)
{
    return (uint64_t)(op & 0xff) | (uint64_t)(words & 0xff) << 8 | (uint64_t)(flags & 0xffff) << 16 |
           (uint64_t)arg << 32;
}
static inline unsigned ngr_w0_op(uint64_t w) { return (unsigned)(w & 0xff); }
static inline unsigned ngr_w0_words(uint64_t w) { return (unsigned)(w >> 8 & 0xff); }
static inline unsigned ngr_w0_flags(uint64_t w) { return (unsigned)(w >> 16 & 0xffff); }
static inline uint32_t ngr_w0_arg(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint64_t ngr_pack32(uint32_t lo, uint32_t hi) { return (uint64_t)lo | (uint64_t)hi << 32; }

enum ngr_opcode {
    /* event streams (thread N) */
    NGR_OP_ACCESS = 0x01,      /* 4 words: w0 arg = var_id, flags = ngr_access_kind;
                                  w1 = key_id (0: the variable itself, not an item of it);
                                  w2 = frame_id (same value = same function activation);
                                  w3 = stack_id (lo) | native_stack_id (hi, 0 = none) */
    NGR_OP_SYNC = 0x02,        /* 4 words: w0 arg = stack_id, flags = ngr_sync_kind;
                                  w1 = seq; w2 = object id (lock, queue, event...);
                                  w3 = count (lo: re-entrancy depth for *_ALL kinds) | native_stack_id (hi) */
    NGR_OP_THREAD = 0x03,      /* 3 words: w0 arg = other thread number (child for SPAWN, parent for
                                  BEGIN, joined thread for JOIN, else 0), flags = ngr_thread_kind;
                                  w1 = seq; w2 = extra (child trace_id for FORK, OS tid for BEGIN) */
    NGR_OP_MARK = 0x04,        /* 1 word (since 1.1): begin or end of a named span of the calling
                                  thread (a test's setup, call or teardown); w0 arg = label string id,
                                  flags = ngr_mark_phase | NGR_MARK_BEGIN for a begin.  No seq: it is
                                  ordered like ACCESS, between its thread's sync records.  A thread
                                  spawned while a span is active runs in it until it marks its own. */

    /* metadata stream (0) */
    NGR_OP_STRING = 0x10,      /* w0 arg = string id (>= 1); w1 = byte length (lo); then the bytes,
                                  zero-padded to a word; no terminator counted in the length */
    NGR_OP_VAR = 0x11,         /* 3 words: w0 arg = var_id (>= 1), flags = ngr_var_kind;
                                  w1 = name string id (lo) | parent var_id (hi, 0 = none);
                                  w2 = reserved */
    NGR_OP_KEY = 0x12,         /* 3 words: w0 flags = ngr_key_kind; w1 = key_id; w2 = repr string id */
    NGR_OP_LOCATION = 0x13,    /* 3 words: w0 arg = location id (>= 1); w1 = file string id (lo) |
                                  function string id (hi); w2 = line (lo) */
    NGR_OP_STACK = 0x14,       /* w0 arg = stack id (>= 1), flags = depth; then depth location ids,
                                  innermost first, 4 bytes each, zero-padded to a word */
    NGR_OP_SYNC_OBJ = 0x15,    /* 3 words: w0 flags = ngr_sync_obj_kind; w1 = object id;
                                  w2 = name string id (lo).  May repeat: the last one wins. */
    NGR_OP_THREAD_NAME = 0x16, /* 2 words: w0 arg = thread number; w1 = name string id (lo).
                                  May repeat: the last one wins. */
    NGR_OP_PROCESS = 0x17,     /* 2 words: w0 flags = ngr_process_flags; w1 = python version string
                                  id (lo) | command line string id (hi) */
    NGR_OP_GIL = 0x18,         /* 2 words: w0 arg = module name string id, flags = 1 when the GIL
                                  was enabled, 0 when disabled; w1 = seq */
    NGR_OP_NATIVE_STACK = 0x19,/* like STACK, but the ids are string ids of symbolised native frames */
    NGR_OP_NOTE = 0x1a,        /* 2 words: w0 flags = ngr_note_kind; w1 = message string id (lo) */
    NGR_OP_END = 0x1f,         /* 3 words: clean end of the process; w1 = events written;
                                  w2 = last seq */
};

enum ngr_access_kind {
    NGR_ACC_READ = 1,          /* load of the variable or of one item of it */
    NGR_ACC_WRITE = 2,         /* store (create or replace) */
    NGR_ACC_DELETE = 3,        /* del */
    NGR_ACC_ITER_BEGIN = 4,    /* an iteration over the whole container starts (a read of every item) */
    NGR_ACC_ITER_END = 5,      /* ... and ends; same frame_id as its ITER_BEGIN */
    NGR_ACC_CLEAR = 6,         /* a write of every item (clear, update, sort, replacement) */
    NGR_ACC_CONTAINS = 7,      /* membership test, a read */
};
/* flag bit OR'ed into the access kind */
#define NGR_ACC_FLAG_ATOMIC 0x100u  /* one atomic container operation (append, d[k] = v ...) */
#define NGR_ACC_KIND_MASK 0xffu

enum ngr_sync_kind {
    NGR_SYNC_ACQUIRE = 1,      /* lock acquired (after success) */
    NGR_SYNC_RELEASE = 2,      /* lock about to be released */
    NGR_SYNC_RD_ACQUIRE = 3,   /* shared (reader) acquire of a rwlock */
    NGR_SYNC_RD_RELEASE = 4,
    NGR_SYNC_RELEASE_ALL = 5,  /* RLock fully released (Condition.wait): w3 lo = depth released */
    NGR_SYNC_ACQUIRE_ALL = 6,  /* RLock re-acquired to depth w3 lo (Condition.wait return) */
    NGR_SYNC_SEND = 7,         /* happens-before source: everything before it in this thread ... */
    NGR_SYNC_RECV = 8,         /* ... happens before everything after a RECV on the same object */
    NGR_SYNC_FREE = 9,         /* the object is gone; its id may be reused after this */
};

enum ngr_thread_kind {
    NGR_THR_SPAWN = 1,         /* in the parent, after pthread_create succeeded */
    NGR_THR_BEGIN = 2,         /* first record of a thread's stream */
    NGR_THR_END = 3,           /* last record of a thread's stream */
    NGR_THR_JOIN = 4,          /* in the joiner, after pthread_join returned */
    NGR_THR_DETACH = 5,
    NGR_THR_FORK = 6,          /* in the parent, after fork() returned; w2 = child's trace_id */
};

enum ngr_mark_phase {           /* NGR_OP_MARK flags, low byte: which part of the span's test */
    NGR_MARK_NONE = 0,         /* a span that is not a test phase */
    NGR_MARK_SETUP = 1,
    NGR_MARK_CALL = 2,
    NGR_MARK_TEARDOWN = 3,
};
#define NGR_MARK_PHASE_MASK 0xffu
#define NGR_MARK_BEGIN 0x100u  /* the span begins (absent: it ends) */

enum ngr_var_kind {
    NGR_VAR_GLOBAL = 1,        /* a module global: name "mod.x" */
    NGR_VAR_CLASS_ATTR = 2,    /* a class attribute: "mod.Cls.x" */
    NGR_VAR_CONTAINER = 3,     /* a dict/list/set/deque/bytearray reachable from module state or
                                  shared between threads */
    NGR_VAR_OBJ_ATTR = 4,      /* an attribute of an object reachable from module state or shared
                                  between threads (its object is a variable of this kind too) */
    NGR_VAR_ITERATOR = 5,      /* an iterator or generator used by several threads: next() moves
                                  its position, a read-modify-write */
    NGR_VAR_CLOSURE = 6,       /* a closure variable (a cell) used by several threads:
                                  "mod.func.<locals>.x", func the function that owns it */
};

enum ngr_key_kind {
    NGR_KEY_STR = 1, NGR_KEY_INT = 2, NGR_KEY_BYTES = 3, NGR_KEY_TUPLE = 4,
    NGR_KEY_OTHER = 5,         /* not a plain scalar: identified by type and object address */
};

enum ngr_sync_obj_kind {
    NGR_SOBJ_LOCK = 1, NGR_SOBJ_RLOCK = 2, NGR_SOBJ_CONDITION = 3, NGR_SOBJ_SEMAPHORE = 4,
    NGR_SOBJ_QUEUE = 5, NGR_SOBJ_EVENT = 6, NGR_SOBJ_BARRIER = 7, NGR_SOBJ_FUTURE = 8,
    NGR_SOBJ_PTHREAD_MUTEX = 9, NGR_SOBJ_PTHREAD_RWLOCK = 10, NGR_SOBJ_PTHREAD_SEM = 11,
    NGR_SOBJ_PTHREAD_COND = 12, NGR_SOBJ_OTHER = 13,
};

enum ngr_process_flags {
    NGR_PROC_GIL_ENABLED = 1u << 0,   /* sys._is_gil_enabled() at activation */
    NGR_PROC_FREE_THREADED = 1u << 1, /* the interpreter was built with --disable-gil */
    NGR_PROC_NO_HOOKS = 1u << 2,      /* the CPython hooks for this interpreter were missing or failed
                                         to load or initialise: the process ran untraced (a NOTE
                                         names the interpreter and the reason) */
};

enum ngr_note_kind {
    NGR_NOTE_WARNING = 1,      /* e.g. tracing stopped: disk full */
    NGR_NOTE_INFO = 2,
};

#endif
