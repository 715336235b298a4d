/* activate.c — when libnogilrace.so wakes up, and how it ends.
 *
 * In any process the constructor looks for PySys_AddAuditHook.  Not there: this is not Python,
 * and the shim stays inert (no file, no output, every pthread hook a plain pass-through).  There:
 * an audit hook waits for the first cpython.run_* event (run_file, run_module, run_command,
 * run_stdin), which arrives on the main thread after full initialisation, right before user code.
 * Then: identify the interpreter (Py_Version, sys.abiflags), find nogilrace-<tag>.so next to us,
 * create the trace, record the process, and hand over to the hooks library's ngr_hooks_init.
 * Python is reached only through dlsym'd C API calls: no link-time dependency on libpython.
 */
#include "ngr_internal.h"
#include "ports.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void PyObj;
static struct {
    const unsigned long *Py_Version;
    PyObj *(*PySys_GetObject)(const char *);
    const char *(*PyUnicode_AsUTF8)(PyObj *);
    PyObj *(*PyObject_CallNoArgs)(PyObj *);
    int (*PyObject_IsTrue)(PyObj *);
    void (*Py_DecRef)(PyObj *);
    void (*PyErr_Clear)(void);
    ssize_t (*PyList_Size)(PyObj *);
    PyObj *(*PyList_GetItem)(PyObj *, ssize_t);
    PyObj *(*PyUnicode_AsEncodedString)(PyObj *, const char *, const char *);
    char *(*PyBytes_AsString)(PyObj *);
    ssize_t (*PyBytes_Size)(PyObj *);
} py;

static int activated; /* the audit hook has seen its first cpython.run_* event */
static void *hooks_handle;

static const char *sys_str(const char *name)
{
    PyObj *o = py.PySys_GetObject(name); /* borrowed */
    const char *s = o ? py.PyUnicode_AsUTF8(o) : NULL;
    if (!s)
        py.PyErr_Clear();
    return s;
}

/* sys._is_gil_enabled(); an interpreter without it (before 3.13) always has the GIL. */
static bool gil_enabled(void)
{
    PyObj *f = py.PySys_GetObject("_is_gil_enabled");
    if (!f || !py.PyObject_CallNoArgs)
        return true;
    PyObj *r = py.PyObject_CallNoArgs(f);
    if (!r) {
        py.PyErr_Clear();
        return true;
    }
    int t = py.PyObject_IsTrue(r);
    py.Py_DecRef(r);
    if (t < 0)
        py.PyErr_Clear();
    return t != 0;
}

/* An argument that UTF-8 cannot encode (bytes that are not UTF-8, kept as surrogates): its bytes
 * again, escaped like file names in the hooks library (ngr_utf8_escape).  "?" when impossible. */
static size_t arg_escaped(PyObj *item, char *out, size_t cap)
{
    PyObj *b = py.PyUnicode_AsEncodedString && item
                   ? py.PyUnicode_AsEncodedString(item, "utf-8", "surrogateescape") : NULL;
    char *bytes = b && py.PyBytes_AsString ? py.PyBytes_AsString(b) : NULL;
    ssize_t n = bytes && py.PyBytes_Size ? py.PyBytes_Size(b) : -1;
    size_t k = n >= 0 ? ngr_utf8_escape(bytes, (size_t)n, out, cap) : 0;
    if (b)
        py.Py_DecRef(b);
    py.PyErr_Clear();
    if (n < 0)
        k = (size_t)snprintf(out, cap, "?");
    return k;
}

/* sys.orig_argv joined with spaces (the command as the user typed it). */
static uint32_t cmdline_string(void)
{
    char buf[2048];
    size_t n = 0;
    PyObj *argv = py.PySys_GetObject("orig_argv");
    if (!argv)
        argv = py.PySys_GetObject("argv");
    ssize_t len = argv ? py.PyList_Size(argv) : -1;
    if (len < 0)
        py.PyErr_Clear();
    for (ssize_t i = 0; i < len; i++) {
        PyObj *item = py.PyList_GetItem(argv, i);
        const char *s = item ? py.PyUnicode_AsUTF8(item) : NULL;
        char escaped[1024];
        if (!s) {
            py.PyErr_Clear();
            arg_escaped(item, escaped, sizeof escaped);
            s = escaped;
        }
        size_t l = strlen(s);
        if (n + l + 2 > sizeof buf)
            l = sizeof buf - n - 2;
        if (i)
            buf[n++] = ' ';
        memcpy(buf + n, s, l);
        n += l;
        if (n + 2 >= sizeof buf)
            break;
    }
    return ngr_intern_string(buf, n);
}

static bool resolve_python(void)
{
#define PY_SYM(name) (*(void **)&py.name = dlsym(RTLD_DEFAULT, #name))
    PY_SYM(Py_Version);
    PY_SYM(PySys_GetObject);
    PY_SYM(PyUnicode_AsUTF8);
    PY_SYM(PyObject_CallNoArgs);
    PY_SYM(PyObject_IsTrue);
    PY_SYM(Py_DecRef);
    PY_SYM(PyErr_Clear);
    PY_SYM(PyList_Size);
    PY_SYM(PyList_GetItem);
    PY_SYM(PyUnicode_AsEncodedString);
    PY_SYM(PyBytes_AsString);
    PY_SYM(PyBytes_Size);
#undef PY_SYM
    return py.Py_Version && py.PySys_GetObject && py.PyUnicode_AsUTF8 && py.PyObject_IsTrue &&
           py.Py_DecRef && py.PyErr_Clear && py.PyList_Size && py.PyList_GetItem;
}

/* Where libnogilrace.so lives: the hooks libraries sit next to it. */
static bool self_dir(char *out, size_t cap)
{
    Dl_info info;
    if (!dladdr((void *)self_dir, &info) || !info.dli_fname)
        return false;
    char real[PATH_MAX];
    const char *path = realpath(info.dli_fname, real) ? real : info.dli_fname;
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (n + 1 > cap)
        return false;
    memcpy(out, slash ? path : ".", n);
    out[n] = 0;
    return true;
}

/* The hooks for this interpreter are missing or broken: the trace still says that this Python
 * process ran, and why it is untraced (PROCESS with NO_HOOKS, a warning NOTE repeating the stderr
 * line), then records nothing more: `nogilrace run` must not mistake it for a clean run. */
static void run_untraced(unsigned flags, uint32_t version, const char *why)
{
    ngr_define_process(flags | NGR_PROC_NO_HOOKS, version, cmdline_string());
    ngr_note(NGR_NOTE_WARNING, why);
    ngr_stop();
}

static void activate(void)
{
    ngr_options_load();
    if (!resolve_python()) {
        ngr_log(1, "this Python lacks Py_Version (3.11+ needed); running untraced");
        return;
    }
    unsigned long v = *py.Py_Version;
    const char *abiflags = sys_str("abiflags");
    char tag[32];
    snprintf(tag, sizeof tag, "cp%lu%lu%s", v >> 24 & 0xff, v >> 16 & 0xff,
             abiflags ? abiflags : "");
    const char *exe = sys_str("executable");

    /* Why the CPython hooks are not there, when they are not: one line for stderr and the trace. */
    char why[PATH_MAX + 512] = "";
    ngr_hooks_init_fn init = NULL;
    char hooks_path[PATH_MAX + 64];
    if (ngr_hooks_wanted()) {
        char dir[PATH_MAX];
        if (!self_dir(dir, sizeof dir))
            snprintf(dir, sizeof dir, ".");
        snprintf(hooks_path, sizeof hooks_path, "%s/nogilrace-%s.so", dir, tag);
        unsigned long major = v >> 24 & 0xff, minor = v >> 16 & 0xff;
        if (major != 3 || minor < NGR_PORT_FIRST_MINOR || minor > NGR_PORT_LAST_MINOR) {
            snprintf(why, sizeof why, "no hooks for CPython %lu.%lu (%s): nogilrace supports "
                     NGR_PORTS_TEXT "; running untraced", major, minor, tag);
        } else if (access(hooks_path, R_OK) != 0) {
            snprintf(why, sizeof why, "no hooks library for this Python (%s): %s is missing; "
                     "build it with `make PYTHON=%s`; running untraced", tag, hooks_path,
                     exe ? exe : "python");
        } else {
            hooks_handle = dlopen(hooks_path, RTLD_NOW | RTLD_LOCAL);
            if (hooks_handle)
                init = (ngr_hooks_init_fn)dlsym(hooks_handle, NGR_HOOKS_INIT_SYMBOL);
            if (!init) {
                const char *e = dlerror();
                snprintf(why, sizeof why, "cannot load the hooks library for this Python (%s): "
                         "%s; rebuild it with `make PYTHON=%s`; running untraced", tag,
                         e ? e : hooks_path, exe ? exe : "python");
            }
        }
        if (why[0])
            ngr_log(0, "%s", why);
    }

    /* The trace directory, absolute: the program may chdir, and fork children write there too. */
    const char *dir = ngr_options()->trace_dir;
    char absdir[PATH_MAX];
    if (dir[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) &&
            (size_t)snprintf(absdir, sizeof absdir, "%s/%s", cwd, dir) < sizeof absdir)
            dir = absdir;
    }
    struct ngr_trace_params p = {.dir = dir};
    int err = ngr_trace_open(&p);
    if (err) {
        ngr_log(0, "cannot create a trace file in %s: %s; running untraced", dir, strerror(err));
        return;
    }
    ngr_log(1, "tracing to %s (%s)", ngr_g.path, tag);

    unsigned flags = (gil_enabled() ? NGR_PROC_GIL_ENABLED : 0) |
                     (abiflags && strchr(abiflags, 't') ? NGR_PROC_FREE_THREADED : 0);
    const char *version = sys_str("version");
    uint32_t vs = version ? ngr_intern_string(version, strlen(version)) : 0;
    if (why[0]) {
        run_untraced(flags, vs, why);
        return;
    }

    /* The activating thread (normally the main thread) is thread 1. */
    ngr_thread_begin(ngr_new_thread_num(), 0);
    ngr_callers_setup((const void *)py.PySys_GetObject);
    const char *all = getenv("NOGILRACE_PTHREAD_ALL");
    ngr_callers_record_all(all && strcmp(all, "1") == 0);
    ngr_nstack_init();
    ngr_signals_install();

    if (init) {
        ngr_callers_exclude_object_of((const void *)init);
        int rc = init();
        if (rc != 0) {
            /* Whatever it installed stays inert: nothing is recorded from now on. */
            snprintf(why, sizeof why, "the hooks library for this Python (%s), %s, failed to "
                     "initialise (%d); running untraced", tag, hooks_path, rc);
            ngr_log(0, "%s", why);
            run_untraced(flags, vs, why);
            return;
        }
    }
    ngr_define_process(flags, vs, cmdline_string());
}

static int audit_hook(const char *event, PyObj *args, void *data)
{
    (void)args;
    (void)data;
    /* Audit hooks cannot be removed: return at once for every event but two. */
    if (NGR_LIKELY(event[0] != 'c') || strncmp(event, "cpython.", 8) != 0)
        return 0;
    int saved = errno;
    if (strcmp(event + 8, "_PySys_ClearAuditHooks") == 0)
        ngr_audit_hooks_clearing(); /* finalisation: our hook's entry is freed next */
    else if (!activated && strncmp(event + 8, "run_", 4) == 0) {
        activated = 1;
        activate();
    }
    errno = saved;
    return 0;
}

__attribute__((constructor)) static void ngr_constructor(void)
{
    ngr_real_resolve();
    ngr_audit_add_fn add_hook = (ngr_audit_add_fn)dlsym(RTLD_DEFAULT, "PySys_AddAuditHook");
    if (!add_hook)
        return; /* not Python: stay inert */
    ngr_audit_hook_add(add_hook, audit_hook);
}

__attribute__((destructor)) static void ngr_destructor(void)
{
    ngr_trace_finish(0);
}
