"""t_shim_reader.py — a small independent reader of nogilrace traces, for the shim's e2e tests.

Imported by the other t_shim_* tests (``from t_shim_reader import read_trace``); run as a test it
traces a tiny threaded program and checks what the reader finds.  It follows
docs/trace-format.md, not the analyzer's code, so it also cross-checks the format document.
"""
import mmap
import os
import struct
import subprocess
import sys

HEADER = struct.Struct("<8sHHIIIQQIIIIQQ")  # 72 bytes
CHUNK = struct.Struct("<IIIIIIQ")  # 32 bytes
CHUNK_MAGIC = 0x4B43474E

OPS = {0x01: "access", 0x02: "sync", 0x03: "thread", 0x10: "string", 0x11: "var", 0x12: "key",
       0x13: "location", 0x14: "stack", 0x15: "sync_obj", 0x16: "thread_name", 0x17: "process",
       0x18: "gil", 0x19: "native_stack", 0x1A: "note", 0x1F: "end"}
THREAD_KINDS = {1: "spawn", 2: "begin", 3: "end", 4: "join", 5: "detach", 6: "fork"}
SYNC_KINDS = {1: "acquire", 2: "release", 3: "rd_acquire", 4: "rd_release", 5: "release_all",
              6: "acquire_all", 7: "send", 8: "recv", 9: "free"}
HDR_FLAGS = {1: "finished", 2: "exec", 4: "disabled", 8: "forked"}


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc_table()


def _crc32c_py(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


_fast = None


def crc32c(data):
    """CRC-32C; big traces go through common/crc32c.c compiled on first use (pure Python is
    ~1 MB/s).  The two are cross-checked once."""
    global _fast
    if _fast is None:
        _fast = False
        root, tmp = os.environ.get("NGR_ROOT"), os.environ.get("NGR_TMP")
        if root and tmp:
            so = os.path.join(tmp, "ngr_crc32c_test.so")
            if subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", so,
                               os.path.join(root, "common", "crc32c.c")]).returncode == 0:
                import ctypes
                f = ctypes.CDLL(so).ngr_crc32c
                f.restype = ctypes.c_uint32
                f.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
                probe = bytes(range(256)) * 3
                if f(0, probe, len(probe)) == _crc32c_py(probe):
                    _fast = f
    if _fast and len(data) > 4096:
        return _fast(0, bytes(data), len(data))
    return _crc32c_py(data)


class TraceError(Exception):
    pass


class Record:
    __slots__ = ("op", "kind", "words", "flags", "arg", "stream", "raw")

    def __init__(self, stream, words):
        w0 = words[0]
        self.op = w0 & 0xFF
        self.kind = OPS.get(self.op, "op%#x" % self.op)
        self.flags = (w0 >> 16) & 0xFFFF
        self.arg = w0 >> 32
        self.words = words
        self.stream = stream

    def __repr__(self):
        return "<%s s%d flags=%d arg=%d %s>" % (self.kind, self.stream, self.flags, self.arg,
                                              self.words[1:])


class Trace:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) if size else b""
        if len(data) < HEADER.size:
            raise TraceError("%s: %d bytes, shorter than a header" % (path, len(data)))
        (magic, self.major, self.minor, self.header_size, self.chunk_size, self.flags,
         self.trace_id, self.parent_trace_id, self.parent_thread, self.pid, self.ppid, _r,
         self.start_ns, self.chunk_count) = HEADER.unpack_from(data, 0)
        if magic != b"NGRTRACE":
            raise TraceError("%s: bad magic %r at offset 0" % (path, magic))
        if self.major != 1:
            raise TraceError("%s: major version %d" % (path, self.major))
        self.flag_names = [n for b, n in HDR_FLAGS.items() if self.flags & b]
        self.finished = bool(self.flags & 1)
        self.streams = {}  # stream -> [(stream_seq, [Record])]
        self.sealed = self.unsealed = 0
        n = (len(data) - self.header_size) // self.chunk_size
        for i in range(n):
            off = self.header_size + i * self.chunk_size
            cm, stream, sseq, sealed_len, crc, _res, first_seq = CHUNK.unpack_from(data, off)
            if cm == 0:
                continue
            if cm != CHUNK_MAGIC:
                raise TraceError("%s: chunk %d at offset %d: bad magic %#x" % (path, i, off, cm))
            payload = memoryview(data)[off + 32: off + self.chunk_size]
            if sealed_len:
                if crc32c(payload[:sealed_len]) != crc:
                    raise TraceError("%s: chunk %d at offset %d: CRC mismatch" % (path, i, off))
                payload = payload[:sealed_len]
                self.sealed += 1
            else:
                self.unsealed += 1
            recs = []
            p = 0
            while p + 8 <= len(payload):
                w0 = struct.unpack_from("<Q", payload, p)[0]
                if w0 == 0:
                    break
                nw = (w0 >> 8) & 0xFF
                if nw == 0 or p + nw * 8 > len(payload):
                    raise TraceError("%s: chunk %d offset %d: bad record size %d" %
                                     (path, i, off + 32 + p, nw))
                recs.append(Record(stream, list(struct.unpack_from("<%dQ" % nw, payload, p))))
                p += nw * 8
            self.streams.setdefault(stream, []).append((sseq, recs))
        for s in self.streams:
            self.streams[s].sort(key=lambda x: x[0])
            seqs = [x[0] for x in self.streams[s]]
            if seqs != list(range(len(seqs))):
                raise TraceError("%s: stream %d has chunks %s" % (path, s, seqs))
        self.strings = {}
        for r in self.records(0):
            if r.op == 0x10:
                ln = r.words[1] & 0xFFFFFFFF
                raw = b"".join(struct.pack("<Q", w) for w in r.words[2:])[:ln]
                self.strings[r.arg] = raw.decode("utf-8", "replace")

    def records(self, stream=None):
        for s in sorted(self.streams):
            if stream is not None and s != stream:
                continue
            for _seq, recs in self.streams[s]:
                yield from recs

    def of(self, kind, stream=None):
        return [r for r in self.records(stream) if r.kind == kind]

    def thread_events(self, kind=None):
        out = []
        for r in self.of("thread"):
            k = THREAD_KINDS.get(r.flags, "?")
            if kind is None or k == kind:
                out.append((r.stream, k, r.arg, r.words[1], r.words[2]))
        return out

    def sync_events(self, kind=None):
        out = []
        for r in self.of("sync"):
            k = SYNC_KINDS.get(r.flags, "?")
            if kind is None or k == kind:
                out.append((r.stream, k, r.words[2], r.words[1]))
        return out

    def process(self):
        p = self.of("process")
        if not p:
            return None
        r = p[-1]
        return {"gil_enabled": bool(r.flags & 1), "free_threaded": bool(r.flags & 2),
                "no_hooks": bool(r.flags & 4),
                "version": self.strings.get(r.words[1] & 0xFFFFFFFF),
                "cmdline": self.strings.get(r.words[1] >> 32)}

    def notes(self):
        return [self.strings.get(r.words[1] & 0xFFFFFFFF) for r in self.of("note")]


def read_trace(path):
    return Trace(path)


def traces_in(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".ngrtrace"))


def env_for(tracedir, **extra):
    env = dict(os.environ)
    env["LD_PRELOAD"] = os.environ["NGR_PRELOAD"]
    env["NOGILRACE_TRACE_DIR"] = tracedir
    env.update({k: str(v) for k, v in extra.items()})
    return env


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


if __name__ == "__main__":
    import interp
    tmp = os.environ.get("NGR_TMP", ".")
    d = os.path.join(tmp, "reader")
    os.makedirs(d, exist_ok=True)
    prog = ("import threading\n"
            "def f(): pass\n"
            "ts = [threading.Thread(target=f) for _ in range(3)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "print('ok')\n")
    r = subprocess.run([os.environ["NGR_PYTHON"], "-c", prog], env=env_for(d, NOGILRACE_HOOKS=0),
                       capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout == "ok\n", "program output %r %r" % (r.stdout, r.stderr))
    ts = traces_in(d)
    check(len(ts) == 1, "one trace expected, got %s" % ts)
    t = read_trace(ts[0])
    check(t.finished, "trace not finished: %s" % t.flag_names)
    check(t.pid > 0 and t.trace_id != 0, "header pid/trace_id")
    check(len(t.of("end")) == 1, "one END record")
    total = sum(len(recs) for chunks in t.streams.values() for _, recs in chunks)
    end = t.of("end")[0]
    check(end.words[1] == total, "END counts every record written, %d, but the trace holds %d (threads that "
          "ended before the process must count too)" % (end.words[1], total))
    spawns = t.thread_events("spawn")
    begins = t.thread_events("begin")
    joins = t.thread_events("join")
    check(len(spawns) == 3 and len(joins) == 3, "spawn/join %s %s" % (spawns, joins))
    check(len(begins) == 4, "begin in main + 3 threads: %s" % begins)
    children = sorted(s[2] for s in spawns)
    check(sorted(j[2] for j in joins) == children, "joined threads are the spawned ones")
    for c in children:
        b = [x for x in begins if x[0] == c]
        sp = [x for x in spawns if x[2] == c]
        check(b and b[0][2] == 1, "thread %d begins with parent 1" % c)
        check(sp[0][3] < b[0][3], "SPAWN seq before BEGIN seq for %d" % c)
    seqs = [r.words[1] for r in t.of("thread")]
    check(len(set(seqs)) == len(seqs), "sequence numbers unique")
    p = t.process()
    ft = interp.free_threaded()
    check(p and p["free_threaded"] == ft and p["gil_enabled"] == (not ft), "process record %s" % p)
    check("threading" in (p["cmdline"] or ""), "command line recorded: %r" % p["cmdline"])
    print("reader ok:", t.flag_names, len(list(t.records())), "records")
