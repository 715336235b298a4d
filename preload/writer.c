/* writer.c — the trace file: creation, chunks in shared mappings, records, sealing, the end.
 *
 * Crash safety comes from the mapping: every store lands in the page cache at once, so a SIGKILL
 * loses nothing already written.  Records are written later words first and word 0 last with a
 * release store; an unfinished record reads as a zero word, the end of the data.  Space for a
 * chunk is reserved with fallocate() before it is mapped, so a full disk shows up as an error
 * here and never as SIGBUS in the program later.
 */
#include "ngr_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"

__thread struct ngr_tls ngr_t NGR_TLS;
struct ngr_trace ngr_g = {.fd = -1};

/* Metadata chunk indices in stream order, so a fork child can copy its parent's metadata. */
#define NGR_MAX_META_CHUNKS 65536u
static uint32_t meta_chunks[NGR_MAX_META_CHUNKS];
static _Atomic uint32_t n_meta_chunks;

/* Why tracing stopped, waiting for the metadata lock's holder to write it (ngr_meta_unlock). */
static char stop_note[NGR_NOTE_FINAL_MAX + 1];
static _Atomic int stop_note_state; /* 0 none, 1 to be written, 2 written (or no room) */

/* ---- ids ------------------------------------------------------------------------------------ */

uint64_t ngr_random_id(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 17) ^
            (uint64_t)(uintptr_t)&v;
        v ^= v >> 33;
        v *= 0xff51afd7ed558ccdull;
        v ^= v >> 33;
    }
    return v ? v : 1;
}

/* ---- the file ------------------------------------------------------------------------------- */

static void hex16(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = digits[v & 15];
    out[16] = 0;
}

static bool streams_map(void)
{
    if (ngr_g.streams)
        return true;
    void *p = mmap(NULL, (size_t)NGR_MAX_THREADS * sizeof(struct ngr_stream), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    ngr_g.streams = p;
    return true;
}

/* ---- creating the file ---------------------------------------------------------------------- *
 *
 * A trace never shows under its final name without its complete header: the file is made
 * without a name (O_TMPFILE), or under a temporary name .nogilrace-<pid>-<id>.tmp in the same
 * directory where O_TMPFILE is missing, its header written, and only then given its final name
 * with an operation that never replaces an existing name (linkat, renameat2 RENAME_NOREPLACE, or
 * link + unlink of the temporary).  A process killed before that leaves no trace, or, in the
 * fallback, a temporary whose name readers do not take for a trace.  Names are never followed:
 * O_EXCL|O_NOFOLLOW for the temporary, and linking or renaming onto a name that exists (a file, a
 * symlink, dangling or not) fails with EEXIST. */

/* How the file was made: without a name, or under the temporary name. */
enum create_way { CREATE_UNNAMED, CREATE_NAMED };

static int create_file(int dirfd, const char *tmp, enum create_way way)
{
    if (way == CREATE_UNNAMED)
        return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    return openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* Gives the file its final name.  0, or an errno value (EEXIST: the name is taken). */
static int publish(int dirfd, int fd, const char *tmp, const char *name, enum create_way way)
{
    if (way == CREATE_UNNAMED) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
            return 0;
        if (errno == EEXIST)
            return EEXIST;
        /* No /proc: linking a descriptor needs CAP_DAC_READ_SEARCH. */
        return linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0 ? 0 : errno;
    }
    if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    int err = errno;
    if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
        /* A filesystem without RENAME_NOREPLACE: a second name, then the temporary one goes. */
        err = linkat(dirfd, tmp, dirfd, name, 0) == 0 ? 0 : errno;
    }
    unlinkat(dirfd, tmp, 0);
    return err;
}

/* Makes the file (way), reserves and maps its header.  The header pointer, or MAP_FAILED with
 * *err set (nothing is left behind then). */
static struct ngr_file_header *create_mapped(int dirfd, const char *tmp, enum create_way way,
                                             int *fd_out, int *err)
{
    int fd = create_file(dirfd, tmp, way);
    if (fd < 0) {
        *err = errno;
        return MAP_FAILED;
    }
    int high = fcntl(fd, F_DUPFD_CLOEXEC, NGR_TRACE_FD_MIN);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    *err = 0;
    if (fallocate(fd, 0, 0, ngr_g.header_size) != 0) {
        *err = errno;
        if (*err == EOPNOTSUPP && ftruncate(fd, ngr_g.header_size) == 0)
            *err = 0;
    }
    void *h = MAP_FAILED;
    if (!*err) {
        h = mmap(NULL, ngr_g.header_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (h == MAP_FAILED)
            *err = errno;
    }
    if (*err) {
        close(fd);
        if (way == CREATE_NAMED)
            unlinkat(dirfd, tmp, 0);
        return MAP_FAILED;
    }
    madvise(h, ngr_g.header_size, MADV_DONTFORK);
    *fd_out = fd;
    return h;
}

/* Our descriptor of a file made without a name (or linked, then unlinked from its temporary
 * name) shows as "#inode (deleted)" in /proc/PID/fd and lsof: swap in one opened by the final
 * name, under the same number, when that name still is our file. */
static void by_name(int dirfd, int fd, const char *name)
{
    int named = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (named < 0)
        return;
    struct stat a, b;
    if (fstat(fd, &a) == 0 && fstat(named, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        dup3(named, fd, O_CLOEXEC);
    close(named);
}

static void header_fill(struct ngr_file_header *hdr, const struct ngr_trace_params *p, uint64_t id,
                        pid_t pid)
{
    hdr->major = NGR_TRACE_MAJOR;
    hdr->minor = NGR_TRACE_MINOR;
    hdr->header_size = ngr_g.header_size;
    hdr->chunk_size = ngr_g.chunk_size;
    hdr->flags = p->flags;
    hdr->trace_id = id;
    hdr->parent_trace_id = p->parent_trace_id;
    hdr->parent_thread = p->parent_thread;
    hdr->pid = (uint32_t)pid;
    hdr->ppid = (uint32_t)getppid();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hdr->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    hdr->chunk_count = 0;
    /* The magic last: a reader seeing it sees the rest of the header. */
    atomic_thread_fence(memory_order_release);
    memcpy(hdr->magic, NGR_TRACE_MAGIC, 8);
}

int ngr_trace_open(const struct ngr_trace_params *p)
{
    if (!streams_map())
        return ENOMEM;
    uint64_t id = p->trace_id ? p->trace_id : ngr_random_id();
    pid_t pid = getpid();
    char hex[17];
    hex16(hex, id);
    int n = snprintf(ngr_g.path, sizeof ngr_g.path, "%s/nogilrace-%d-%s%s", p->dir, (int)pid, hex,
                     NGR_TRACE_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof ngr_g.path)
        return ENAMETOOLONG;
    const char *name = strrchr(ngr_g.path, '/') + 1;
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".nogilrace-%d-%s.tmp", (int)pid, hex);
    if (p->dir != ngr_g.dir)
        snprintf(ngr_g.dir, sizeof ngr_g.dir, "%s", p->dir);
    ngr_g.header_size = NGR_HEADER_SIZE;
    ngr_g.chunk_size = NGR_CHUNK_SIZE_DEFAULT;

    /* One descriptor for the directory: the file is made and named in the same one. */
    int dirfd = open(p->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return errno;
    int fd = -1, err = 0;
    struct ngr_file_header *hdr = MAP_FAILED;
    /* Without a name first; the temporary name where that cannot be made or linked (no O_TMPFILE
     * in this filesystem, EISDIR from old kernels; no /proc and no capability to link). */
    for (int way = CREATE_UNNAMED; way <= CREATE_NAMED; way++) {
        hdr = create_mapped(dirfd, tmp, (enum create_way)way, &fd, &err);
        if (hdr == MAP_FAILED)
            continue;
        header_fill(hdr, p, id, pid);
        /* Every store above is in the page cache, which is what a reader of the name reads. */
        err = publish(dirfd, fd, tmp, name, (enum create_way)way);
        if (!err)
            break;
        munmap(hdr, ngr_g.header_size);
        close(fd);
        hdr = MAP_FAILED;
        if (err == EEXIST)
            break; /* never replaced */
    }
    if (hdr != MAP_FAILED)
        by_name(dirfd, fd, name);
    close(dirfd);
    if (hdr == MAP_FAILED)
        return err;

    struct stat st;
    if (fstat(fd, &st) == 0) {
        ngr_g.dev = st.st_dev;
        ngr_g.ino = st.st_ino;
    }
    ngr_g.fd = fd;
    ngr_g.hdr = hdr;
    ngr_g.pid = pid;
    atomic_store(&ngr_g.next_chunk, 0);
    atomic_store(&n_meta_chunks, 0);
    if (atomic_load(&ngr_g.seq) == 0)
        atomic_store(&ngr_g.seq, 1);
    if (atomic_load(&ngr_g.next_thread) == 0)
        atomic_store(&ngr_g.next_thread, 1);
    ngr_g.streams[0].num = 0;
    atomic_store(&stop_note_state, 0);
    atomic_store(&ngr_g.stopped, false);
    atomic_store(&ngr_g.state, NGR_ACTIVE);
    return 0;
}

/* Forget the file without writing to it (fork child: the mappings are not inherited). */
static void forget_file(void)
{
    int fd = ngr_g.fd;
    ngr_g.fd = -1; /* first: our own close() hook must not take it for the program's */
    if (fd >= 0)
        close(fd);
    ngr_g.hdr = NULL;
}

void ngr_trace_discard(void)
{
    atomic_store(&ngr_g.state, NGR_OFF);
    uint32_t max = atomic_load(&ngr_g.max_thread);
    for (uint32_t i = 0; i <= max && ngr_g.streams; i++) {
        struct ngr_stream *s = &ngr_g.streams[i];
        if (s->base)
            munmap(s->base, ngr_g.chunk_size);
        memset(s, 0, sizeof *s);
    }
    if (ngr_g.hdr)
        munmap(ngr_g.hdr, ngr_g.header_size);
    forget_file();
    unlink(ngr_g.path);
    ngr_meta_reset();
}

void ngr_trace_disable(int err, const char *what)
{
    int expect = NGR_ACTIVE;
    if (!atomic_compare_exchange_strong(&ngr_g.state, &expect, NGR_DISABLED))
        return;
    ngr_log(0, "%s %s: %s; tracing stopped, the program continues", what, ngr_g.path,
            strerror(err));
    if (ngr_g.hdr)
        __atomic_or_fetch(&ngr_g.hdr->flags, NGR_HDR_DISABLED, __ATOMIC_RELEASE);
    snprintf(stop_note, sizeof stop_note, "%s: %s; tracing stopped here, the program continued",
             what, strerror(err));
    atomic_store(&stop_note_state, 1);
    /* Written by whoever holds the metadata lock when releasing it: us now, or (this thread or
     * another is in the middle of a metadata record) that holder. */
    if (ngr_meta_trylock())
        ngr_meta_unlock();
}

bool ngr_trace_note_stop_pending(void)
{
    return atomic_load_explicit(&stop_note_state, memory_order_relaxed) == 1;
}

void ngr_trace_note_stop_locked(void)
{
    int one = 1;
    if (atomic_compare_exchange_strong(&stop_note_state, &one, 2))
        ngr_meta_note_final_locked(NGR_NOTE_WARNING, stop_note);
}

/* ---- chunks --------------------------------------------------------------------------------- */

/* The program may close our descriptor (closerange, daemonisation) and open something else
 * under the same number: never extend or punch a file that is not our trace. */
static bool fd_is_ours(void)
{
    struct stat st;
    return fstat(ngr_g.fd, &st) == 0 && st.st_dev == ngr_g.dev && st.st_ino == ngr_g.ino;
}

static off_t chunk_offset_of(const struct ngr_stream *s)
{
    return s->chunk_index == UINT64_MAX
               ? -1
               : (off_t)ngr_g.header_size + (off_t)s->chunk_index * ngr_g.chunk_size;
}

static void chunk_seal(struct ngr_stream *s)
{
    struct ngr_chunk_header *ch = (struct ngr_chunk_header *)s->base;
    uint32_t len = (uint32_t)((unsigned char *)s->pos - s->base - NGR_CHUNK_HEADER_SIZE);
    if (len == 0)
        return;
    ch->crc32c = ngr_crc32c(0, s->base + NGR_CHUNK_HEADER_SIZE, len);
    __atomic_store_n(&ch->sealed_len, len, __ATOMIC_RELEASE);
}

static void chunk_drop(struct ngr_stream *s)
{
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    /* Give the unused, page-aligned tail back to the filesystem: a short-lived thread must not
     * cost a whole chunk of disk.  The hole reads as zeros, which is the end of the data. */
    uintptr_t used = ((uintptr_t)((unsigned char *)s->pos - s->base) + 4095) & ~(uintptr_t)4095;
    if (used < ngr_g.chunk_size) {
        off_t off = chunk_offset_of(s);
        ngr_fd_enter();
        if (off >= 0 && fd_is_ours())
            fallocate(ngr_g.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off + (off_t)used,
                      (off_t)(ngr_g.chunk_size - used));
        ngr_fd_leave();
    }
    munmap(s->base, ngr_g.chunk_size);
    s->base = NULL;
    s->pos = s->end = NULL;
    pthread_setcancelstate(old, NULL);
}

static bool chunk_take_uncancellable(struct ngr_stream *s);

/* Hands stream s a fresh chunk.  Called by the stream's owner (holding s->lock).  fallocate and
 * friends are cancellation points: a thread cancelled in here would leave its stream (or the
 * metadata lock) held for good, so cancellation waits until we are out. */
static bool chunk_take(struct ngr_stream *s)
{
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    ngr_fd_enter();
    bool ok = chunk_take_uncancellable(s);
    ngr_fd_leave();
    pthread_setcancelstate(old, NULL);
    return ok;
}

static bool chunk_take_uncancellable(struct ngr_stream *s)
{
    if (!fd_is_ours()) {
        ngr_trace_disable(EBADF, "the program closed or replaced the trace file's descriptor");
        return false;
    }
    uint64_t idx = atomic_fetch_add(&ngr_g.next_chunk, 1);
    off_t off = (off_t)ngr_g.header_size + (off_t)idx * ngr_g.chunk_size;
    if (fallocate(ngr_g.fd, 0, off, ngr_g.chunk_size) != 0) {
        int err = errno;
        if (err != EOPNOTSUPP) {
            ngr_trace_disable(err, "cannot extend trace file");
            return false;
        }
        /* No fallocate (some network filesystems): extend without reservation.  Serialised, so
         * that a thread extending less far never shrinks the file under another's chunk. */
        static _Atomic int extend_lock;
        while (atomic_exchange_explicit(&extend_lock, 1, memory_order_acquire))
            sched_yield();
        off_t want = off + ngr_g.chunk_size;
        int rc = 0;
        if (lseek(ngr_g.fd, 0, SEEK_END) < want)
            rc = ftruncate(ngr_g.fd, want);
        err = errno;
        atomic_store_explicit(&extend_lock, 0, memory_order_release);
        if (rc != 0) {
            ngr_trace_disable(err, "cannot extend trace file");
            return false;
        }
    }
    /* A stream's first chunk is faulted in page by page: a short-lived thread touches one page,
     * not the whole chunk (RSS).  A stream that filled a chunk is busy: populate the next one in
     * one go rather than with 64 page faults. */
    int populate = s->next_stream_seq > 0 ? MAP_POPULATE : 0;
    void *p = mmap(NULL, ngr_g.chunk_size, PROT_READ | PROT_WRITE, MAP_SHARED | populate,
                   ngr_g.fd, off);
    if (p == MAP_FAILED) {
        ngr_trace_disable(errno, "cannot map trace file");
        return false;
    }
    /* A fork child must never write into its parent's file: it does not inherit the mapping. */
    madvise(p, ngr_g.chunk_size, MADV_DONTFORK);
    struct ngr_chunk_header *ch = p;
    ch->stream = s->num;
    ch->stream_seq = s->next_stream_seq++;
    __atomic_store_n(&ch->magic, NGR_CHUNK_MAGIC, __ATOMIC_RELEASE);
    s->base = p;
    s->chunk_index = idx;
    s->pos = (uint64_t *)((unsigned char *)p + NGR_CHUNK_HEADER_SIZE);
    s->end = (uint64_t *)((unsigned char *)p + ngr_g.chunk_size);
    if (s->num == 0) {
        s->end -= NGR_META_RESERVE_WORDS; /* kept for the last words: ngr_stream_write_final */
        uint32_t k = atomic_fetch_add(&n_meta_chunks, 1);
        if (k < NGR_MAX_META_CHUNKS)
            meta_chunks[k] = (uint32_t)idx;
    }
    return true;
}

/* ---- records -------------------------------------------------------------------------------- */

/* Later words first, word 0 last with release order: a reader sees a record whole or not at all. */
static void put_words(struct ngr_stream *s, const uint64_t *w, unsigned n)
{
    uint64_t *p = s->pos;
    for (unsigned i = n - 1; i >= 1; i--)
        p[i] = w[i];
    __atomic_store_n(&p[0], w[0], __ATOMIC_RELEASE);
    s->pos = p + n;
    s->events++;
}

bool ngr_stream_write(struct ngr_stream *s, const uint64_t *w, unsigned n, uint64_t seq)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong_explicit(&s->lock, &expect, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return false; /* closed by the finisher, or a signal handler interrupted our own write */
    bool ok = false;
    if (atomic_load_explicit(&ngr_g.state, memory_order_relaxed) != NGR_ACTIVE)
        goto out;
    if (!s->base || s->pos + n > s->end) {
        if (s->base) {
            chunk_seal(s);
            chunk_drop(s);
        }
        if (!chunk_take(s))
            goto out;
    }
    put_words(s, w, n);
    if (seq) {
        struct ngr_chunk_header *ch = (struct ngr_chunk_header *)s->base;
        if (!ch->first_seq)
            ch->first_seq = seq;
    }
    ok = true;
out:
    atomic_store_explicit(&s->lock, 0, memory_order_release);
    return ok;
}

bool ngr_stream_write_final(struct ngr_stream *s, const uint64_t *w, unsigned n)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong_explicit(&s->lock, &expect, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return false;
    bool ok = s->base && s->pos + n <= (uint64_t *)(s->base + ngr_g.chunk_size);
    if (ok)
        put_words(s, w, n);
    atomic_store_explicit(&s->lock, 0, memory_order_release);
    return ok;
}

/* Takes stream s away from its owner for good.  A writer holds the lock only for one record, so
 * this waits a few microseconds at most; a thread stopped mid-record (by a debugger, say) is
 * given up on after a while and its chunk is left unsealed, which readers handle. */
static bool stream_close(struct ngr_stream *s)
{
    for (int i = 0; i < 100000; i++) {
        int expect = 0;
        /* acq_rel: whoever later finds the stream closed (finish_locked) sees its final count */
        if (atomic_compare_exchange_weak_explicit(&s->lock, &expect, 2, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return true;
        if (expect == 2)
            return false;
        if (i > 100)
            sched_yield();
    }
    return false;
}

/* ---- threads -------------------------------------------------------------------------------- */

uint32_t ngr_new_thread_num(void)
{
    uint32_t n = atomic_fetch_add(&ngr_g.next_thread, 1);
    uint32_t m = atomic_load(&ngr_g.max_thread);
    while (n > m && !atomic_compare_exchange_weak(&ngr_g.max_thread, &m, n))
        ;
    return n;
}

struct ngr_stream *ngr_my_stream(void)
{
    if (NGR_UNLIKELY(ngr_t.ended))
        return NULL;
    uint32_t n = ngr_t.num;
    if (NGR_UNLIKELY(n == 0)) {
        /* A thread we did not see start (created before activation or by raw clone). */
        n = ngr_new_thread_num();
        if (n >= NGR_MAX_THREADS)
            return NULL;
        ngr_t.num = n;
        struct ngr_stream *s = &ngr_g.streams[n];
        s->num = n;
        atomic_store(&s->pthread, (uintptr_t)pthread_self());
        uint64_t seq = ngr_next_seq();
        uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, NGR_THR_BEGIN, 0), seq,
                         (uint64_t)syscall(SYS_gettid)};
        ngr_stream_write(s, w, 3, seq);
        if (ngr_thread_adopted)
            ngr_thread_adopted();
        return s;
    }
    return n < NGR_MAX_THREADS ? &ngr_g.streams[n] : NULL;
}

void ngr_thread_begin(uint32_t num, uint32_t parent)
{
    if (num == 0 || num >= NGR_MAX_THREADS)
        return;
    ngr_t.num = num;
    ngr_t.ended = false;
    ngr_sync_forget_pending();
    struct ngr_stream *s = &ngr_g.streams[num];
    s->num = num;
    atomic_store(&s->pthread, (uintptr_t)pthread_self());
    uint64_t seq = ngr_next_seq();
    uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, NGR_THR_BEGIN, parent), seq,
                     (uint64_t)syscall(SYS_gettid)};
    ngr_stream_write(s, w, 3, seq);
}

void ngr_thread_end(void)
{
    struct ngr_stream *s = ngr_my_stream();
    if (!s)
        return;
    ngr_sync_flush_pending();
    uint64_t seq = ngr_next_seq();
    uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, NGR_THR_END, 0), seq, 0};
    ngr_stream_write(s, w, 3, seq);
    ngr_t.ended = true;
    /* s->pthread stays: the thread is joined after its END.  A reused pthread_t belongs to a
     * newer thread with a higher number, and ngr_thread_of searches newest first. */
    if (stream_close(s)) {
        if (s->base) {
            chunk_seal(s);
            chunk_drop(s);
        }
    }
}

uint32_t ngr_thread_of(pthread_t th)
{
    if (!ngr_g.streams)
        return 0;
    /* Newest first: joins usually concern recent threads. */
    for (uint32_t i = atomic_load(&ngr_g.max_thread); i >= 1; i--)
        if (atomic_load_explicit(&ngr_g.streams[i].pthread, memory_order_relaxed) == (uintptr_t)th)
            return i;
    return 0;
}

void ngr_thread_forget(uint32_t num)
{
    if (num && num < NGR_MAX_THREADS)
        atomic_store(&ngr_g.streams[num].pthread, 0);
}

/* ---- the end -------------------------------------------------------------------------------- */

static void finish_locked(uint32_t extra_flags, int prev_state)
{
    uint32_t max = atomic_load(&ngr_g.max_thread);
    uint64_t events = 0;
    for (uint32_t i = 1; i <= max && i < NGR_MAX_THREADS; i++) {
        struct ngr_stream *s = &ngr_g.streams[i];
        if (stream_close(s)) {
            if (s->base) {
                chunk_seal(s);
                chunk_drop(s);
            }
        } else if (atomic_load_explicit(&s->lock, memory_order_acquire) != 2) {
            continue; /* a writer that never let go: its count is not final */
        }
        /* closed now, or earlier by its thread's exit: either way its count is final */
        events += s->events;
    }
    struct ngr_stream *m = &ngr_g.streams[0];
    uint64_t last = atomic_load(&ngr_g.seq) - 1;
    /* The note of a stop not written yet goes before END (the last record of the stream). */
    ngr_trace_note_stop_locked();
    uint64_t w[3] = {ngr_word0(NGR_OP_END, 3, 0, 0), events + m->events + 1, last};
    bool ended = false;
    if (prev_state == NGR_ACTIVE)
        ended = ngr_meta_write_locked(w, 3);
    atomic_store(&ngr_g.state, NGR_FINISHED);
    if (!ended) {
        /* After a stop (disk full, descriptor gone), or one found just now: into the room kept
         * at the end of the metadata chunk, no new chunk. */
        ngr_trace_note_stop_locked();
        w[1] = events + m->events + 1;
        ngr_stream_write_final(m, w, 3);
    }
    if (m->base)
        chunk_seal(m); /* stays mapped: a failed exec takes the END back */
    ngr_g.hdr->chunk_count = atomic_load(&ngr_g.next_chunk);
    __atomic_or_fetch(&ngr_g.hdr->flags, NGR_HDR_FINISHED | extra_flags, __ATOMIC_RELEASE);
}

static _Atomic bool finishing;

void ngr_trace_finish(uint32_t extra_flags)
{
    int st = atomic_load(&ngr_g.state);
    if ((st != NGR_ACTIVE && st != NGR_DISABLED) || !ngr_g.hdr || getpid() != ngr_g.pid)
        return;
    /* exit in one thread, exec in another: one of them finishes. */
    if (atomic_exchange(&finishing, true))
        return;
    /* Not for exec: if it fails, this thread carries on in the same trace. */
    if (st == NGR_ACTIVE && !ngr_t.ended && ngr_t.num && !(extra_flags & NGR_HDR_EXEC)) {
        struct ngr_stream *s = ngr_my_stream();
        ngr_sync_flush_pending();
        uint64_t seq = ngr_next_seq();
        uint64_t w[3] = {ngr_word0(NGR_OP_THREAD, 3, NGR_THR_END, 0), seq, 0};
        if (s)
            ngr_stream_write(s, w, 3, seq);
    }
    ngr_meta_lock();
    finish_locked(extra_flags, st);
    ngr_meta_unlock();
    ngr_log(1, "trace %s finished%s: %llu chunks", ngr_g.path,
            extra_flags & NGR_HDR_EXEC ? " (exec)" : "", (unsigned long long)ngr_g.hdr->chunk_count);
    atomic_store(&finishing, false);
}

void ngr_trace_resume_after_exec(void)
{
    if (atomic_load(&ngr_g.state) != NGR_FINISHED || !ngr_g.hdr)
        return;
    ngr_meta_lock();
    struct ngr_stream *m = &ngr_g.streams[0];
    /* Take the END record back: it is the last one of the metadata stream. */
    if (m->base && m->pos - 3 >= (uint64_t *)(m->base + NGR_CHUNK_HEADER_SIZE) &&
        ngr_w0_op(m->pos[-3]) == NGR_OP_END) {
        __atomic_store_n(&m->pos[-3], 0, __ATOMIC_RELEASE);
        m->pos[-2] = m->pos[-1] = 0;
        m->pos -= 3;
        m->events--;
    }
    if (m->base) {
        struct ngr_chunk_header *ch = (struct ngr_chunk_header *)m->base;
        __atomic_store_n(&ch->sealed_len, 0, __ATOMIC_RELEASE);
        ch->crc32c = 0;
    }
    __atomic_and_fetch(&ngr_g.hdr->flags, ~(uint32_t)(NGR_HDR_FINISHED | NGR_HDR_EXEC),
                       __ATOMIC_RELEASE);
    ngr_g.hdr->chunk_count = 0;
    uint32_t max = atomic_load(&ngr_g.max_thread);
    for (uint32_t i = 1; i <= max && i < NGR_MAX_THREADS; i++)
        atomic_store(&ngr_g.streams[i].lock, 0);
    ngr_t.ended = false;
    atomic_store(&ngr_g.state, NGR_ACTIVE);
    ngr_meta_unlock();
}

/* ---- fork ----------------------------------------------------------------------------------- */

static uint64_t fork_child_id;
static uint32_t fork_thread;
static uint64_t fork_meta_bytes; /* bytes of metadata payload in the current meta chunk at fork */

void ngr_fork_prepare(void)
{
    fork_child_id = ngr_random_id();
    fork_thread = ngr_t.num;
    /* Hold the metadata lock across fork: the child copies a consistent metadata stream. */
    ngr_meta_lock();
    /* ... and the descriptor where it is: the child reads the parent's file through it. */
    ngr_fd_enter();
    struct ngr_stream *m = &ngr_g.streams[0];
    fork_meta_bytes = m->base ? (uint64_t)((unsigned char *)m->pos - m->base) : 0;
}

void ngr_fork_parent(pid_t child)
{
    ngr_fd_leave();
    ngr_meta_unlock();
    if (child > 0)
        ngr_emit_thread(NGR_THR_FORK, 0, fork_child_id, 0);
}

/* Appends the records of one of the parent's metadata chunks (read with pread: the mapping was
 * not inherited) to the child's metadata stream, up to limit bytes of the chunk. */
static void copy_meta_chunk(int old_fd, uint64_t old_header, uint64_t old_chunk, uint32_t idx,
                            uint64_t limit, unsigned char *buf)
{
    ssize_t got = pread(old_fd, buf, old_chunk, (off_t)(old_header + (uint64_t)idx * old_chunk));
    if (got < (ssize_t)NGR_CHUNK_HEADER_SIZE)
        return;
    if ((uint64_t)got < limit)
        limit = (uint64_t)got;
    uint64_t off = NGR_CHUNK_HEADER_SIZE;
    while (off + 8 <= limit) {
        uint64_t w0;
        memcpy(&w0, buf + off, 8);
        unsigned n = ngr_w0_words(w0);
        if (!w0 || !n || off + n * 8ull > limit)
            break;
        if (ngr_w0_op(w0) != NGR_OP_END)
            ngr_meta_write_locked((const uint64_t *)(buf + off), n);
        off += n * 8ull;
    }
}

void ngr_fork_child(void)
{
    ngr_fd_fork_child();
    int old_fd = ngr_g.fd;
    uint32_t old_header = ngr_g.header_size, old_chunk = ngr_g.chunk_size;
    uint32_t n_meta = atomic_load(&n_meta_chunks);
    if (n_meta > NGR_MAX_META_CHUNKS)
        n_meta = NGR_MAX_META_CHUNKS;
    uint64_t parent_trace = 0;
    /* The header mapping was not inherited either: read the parent's id from the file. */
    struct ngr_file_header ph;
    if (pread(old_fd, &ph, sizeof ph, 0) == (ssize_t)sizeof ph)
        parent_trace = ph.trace_id;

    /* Every mapping of the parent is gone (MADV_DONTFORK): forget them without touching. */
    uint32_t max = atomic_load(&ngr_g.max_thread);
    for (uint32_t i = 0; i <= max && i < NGR_MAX_THREADS; i++) {
        struct ngr_stream *s = &ngr_g.streams[i];
        s->base = NULL;
        s->pos = s->end = NULL;
        s->events = 0;
        s->next_stream_seq = 0;
        atomic_store(&s->pthread, 0);
        atomic_store(&s->lock, i == 0 || i == fork_thread ? 0 : 2);
    }
    ngr_g.hdr = NULL;
    ngr_g.fd = -1;

    struct ngr_trace_params p = {.dir = ngr_g.dir,
                                 .trace_id = fork_child_id,
                                 .parent_trace_id = parent_trace,
                                 .parent_thread = fork_thread,
                                 .flags = NGR_HDR_FORKED};
    /* The parent's list of metadata chunks, before the new trace starts its own. */
    size_t list_bytes = (n_meta * sizeof(uint32_t) + 4095) & ~(size_t)4095;
    unsigned char *buf = mmap(NULL, old_chunk + list_bytes, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t *list = NULL;
    if (buf != MAP_FAILED) {
        list = (uint32_t *)(buf + old_chunk);
        memcpy(list, meta_chunks, n_meta * sizeof(uint32_t));
    }
    int err = ngr_trace_open(&p);
    if (err) {
        atomic_store(&ngr_g.state, NGR_OFF);
        ngr_log(0, "cannot create trace file in %s for forked child: %s; child runs untraced",
                ngr_g.dir, strerror(err));
        close(old_fd);
        if (buf != MAP_FAILED)
            munmap(buf, old_chunk + list_bytes);
        ngr_fd_leave();
        ngr_meta_unlock();
        return;
    }
    if (buf != MAP_FAILED) {
        for (uint32_t k = 0; k < n_meta; k++)
            copy_meta_chunk(old_fd, old_header, old_chunk, list[k],
                            k + 1 == n_meta ? fork_meta_bytes : old_chunk, buf);
        munmap(buf, old_chunk + list_bytes);
    }
    close(old_fd);
    ngr_fd_leave();
    ngr_meta_unlock();
    ngr_log(1, "forked child traces to %s", ngr_g.path);
    if (fork_thread && fork_thread < NGR_MAX_THREADS) {
        ngr_t.ended = false;
        ngr_thread_begin(fork_thread, 0);
    }
}
