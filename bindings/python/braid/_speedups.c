/* braid._speedups: the package's hot path in C (optional).
 *
 * An event loop's completion queue is drained once per loop iteration that
 * has braid completions, and a runtime the loop drives takes a turn per such
 * iteration.  In pure Python each of those is a ctypes call (argument
 * conversion and libffi) plus a Python loop over struct-unpacked records.
 * A Pump does the same in C: it calls braid_completion_queue_take_bytes or
 * braid_runtime_turn_take through function pointers the package hands it
 * (the ctypes-loaded libbraid's own entry points: this module does not link
 * libbraid, so there is one library and one version check), and calls each
 * record's handler from the package's handler table with the arguments the
 * Python dispatch passes.  Built by `pip install` when a C compiler and
 * Python's headers are there; without it the package runs the same code in
 * Python (braid/_aio.py).
 *
 * Threading: a Pump is used only on its event loop's thread, with the GIL
 * held (it never releases it: a take and a turn do not block).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>

/* braid_completion (braid/completion_queue.h); its size is passed to the take
 * calls, which refuse a record smaller than theirs. */
typedef struct {
    void (*callback)(void);
    void *user_data;
    int status;
    int kind;
    size_t size;
    void *handle;
    const void *data;
} record;

enum { K_STATUS = 1, K_SIZE = 2, K_HANDLE = 3, K_BYTES = 4 };
enum { E_BUSY = -8 }; /* BRAID_EBUSY: a turn already runs on this runtime */

typedef int (*take_fn)(void *q, record *out, int max, size_t record_size, void *bytes, size_t cap);
typedef int (*turn_take_fn)(void *rt, int max_polls, void *q, record *out, int max, size_t record_size,
                            void *bytes, size_t cap);
typedef int (*turn_fn)(void *rt, int max_polls);

typedef struct {
    PyObject_HEAD
    take_fn take;
    turn_take_fn turn_take;
    turn_fn turn;
    void *q;             /* NULL once closed */
    PyObject *handlers;  /* dict: user_data (int) -> handler */
    PyObject *error;     /* error(code, what) -> the exception to raise */
    PyObject *report;    /* report(exc): a handler's exception after the first of a batch */
    record *records;
    int batch;
    char *arena;
    size_t cap;
    int busy; /* dispatching: the records and the arena are in use */
} Pump;

static void *address(PyObject *o)
{
    return o == Py_None ? NULL : PyLong_AsVoidPtr(o);
}

static int Pump_init(Pump *self, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"take", "turn_take", "turn", "queue", "handlers", "error", "report", "batch", "cap", NULL};
    PyObject *take, *turn_take, *turn, *q, *handlers, *error, *report;
    int batch;
    Py_ssize_t cap;
    if (self->records != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Pump is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOO!OOin", kw, &take, &turn_take, &turn, &q, &PyDict_Type,
                                     &handlers, &error, &report, &batch, &cap))
        return -1;
    self->take = (take_fn)address(take);
    self->turn_take = (turn_take_fn)address(turn_take);
    self->turn = (turn_fn)address(turn);
    self->q = address(q);
    if (PyErr_Occurred())
        return -1;
    if (!self->take || !self->turn_take || !self->turn || !self->q || batch <= 0 || cap < 0) {
        PyErr_SetString(PyExc_ValueError, "Pump: null entry point or queue, or a bad batch or cap");
        return -1;
    }
    self->records = PyMem_Calloc((size_t)batch, sizeof(record));
    self->arena = PyMem_Malloc(cap > 0 ? (size_t)cap : 1);
    if (!self->records || !self->arena) {
        PyMem_Free(self->records);
        PyMem_Free(self->arena);
        self->records = NULL;
        self->arena = NULL;
        PyErr_NoMemory();
        return -1;
    }
    self->batch = batch;
    self->cap = (size_t)cap;
    Py_INCREF(handlers);
    Py_XSETREF(self->handlers, handlers);
    Py_INCREF(error);
    Py_XSETREF(self->error, error);
    Py_INCREF(report);
    Py_XSETREF(self->report, report);
    return 0;
}

static int Pump_traverse(Pump *self, visitproc visit, void *arg)
{
    Py_VISIT(self->handlers);
    Py_VISIT(self->error);
    Py_VISIT(self->report);
    return 0;
}

static int Pump_clear(Pump *self)
{
    Py_CLEAR(self->handlers);
    Py_CLEAR(self->error);
    Py_CLEAR(self->report);
    return 0;
}

static void Pump_dealloc(Pump *self)
{
    PyObject_GC_UnTrack(self);
    Pump_clear(self);
    PyMem_Free(self->records);
    PyMem_Free(self->arena);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* handler(status, *rest) with the record's arguments, as braid/_aio.py's
 * dispatch passes them. */
static PyObject *call_handler(PyObject *h, const record *r)
{
    PyObject *args[2];
    size_t nargs = 2;
    PyObject *res;
    args[0] = PyLong_FromLong(r->status);
    if (!args[0])
        return NULL;
    switch (r->kind) {
    case K_STATUS:
        args[1] = NULL;
        nargs = 1;
        break;
    case K_SIZE:
        args[1] = PyLong_FromSize_t(r->size);
        break;
    case K_BYTES:
        args[1] = r->status != 0 || r->data == NULL ? PyBytes_FromStringAndSize(NULL, 0)
                                                    : PyBytes_FromStringAndSize(r->data, (Py_ssize_t)r->size);
        break;
    default:
        args[1] = PyLong_FromVoidPtr(r->handle);
        break;
    }
    if (nargs == 2 && !args[1]) {
        Py_DECREF(args[0]);
        return NULL;
    }
    res = PyObject_Vectorcall(h, args, nargs, NULL);
    Py_DECREF(args[0]);
    Py_XDECREF(args[1]);
    return res;
}

/* The exception set now, after the first of a batch, goes to report(exc). */
static void report_later(Pump *self)
{
    PyObject *et, *ev, *tb, *res;
    PyErr_Fetch(&et, &ev, &tb);
    PyErr_NormalizeException(&et, &ev, &tb);
    if (tb != NULL && ev != NULL)
        PyException_SetTraceback(ev, tb);
    res = ev != NULL ? PyObject_CallOneArg(self->report, ev) : NULL;
    if (res == NULL && PyErr_Occurred())
        PyErr_WriteUnraisable(self->report);
    Py_XDECREF(res);
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(tb);
}

/* Hands records[0..n) to their handlers.  A handler that raises does not
 * stop the batch (the records after it are the completions of other
 * operations): the first exception is raised once the batch is done, later
 * ones go to report.  -1 with an exception set, else 0. */
static int dispatch(Pump *self, int n)
{
    PyObject *et = NULL, *ev = NULL, *tb = NULL;
    int i;
    self->busy = 1;
    for (i = 0; i < n; i++) {
        const record *r = &self->records[i];
        PyObject *key = PyLong_FromVoidPtr(r->user_data);
        PyObject *h, *res;
        if (!key)
            goto failed;
        h = PyDict_GetItemWithError(self->handlers, key);
        Py_DECREF(key);
        if (!h) {
            if (PyErr_Occurred())
                goto failed;
            continue; /* finished operation: nothing waits for it */
        }
        Py_INCREF(h); /* the handler may remove itself from the table */
        res = call_handler(h, r);
        Py_DECREF(h);
        if (res) {
            Py_DECREF(res);
            continue;
        }
    failed:
        if (et == NULL)
            PyErr_Fetch(&et, &ev, &tb);
        else
            report_later(self);
    }
    self->busy = 0;
    if (et != NULL) {
        PyErr_Restore(et, ev, tb);
        return -1;
    }
    return 0;
}

static PyObject *raise_code(Pump *self, int rc, const char *what)
{
    PyObject *exc = PyObject_CallFunction(self->error, "is", rc, what);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static int drain_queue(Pump *self)
{
    for (;;) {
        int n = self->take(self->q, self->records, self->batch, sizeof(record), self->arena, self->cap);
        if (n <= 0)
            return 0; /* empty, or a C++ callback the take ran threw (BRAID_EPANIC): the loop calls again */
        if (dispatch(self, n) < 0)
            return -1;
        if (n < self->batch || !self->q)
            return 0;
    }
}

PyDoc_STRVAR(Pump_drain_doc, "drain()\n\nTakes what the queue holds and hands it to the handlers (the queue fd's reader).");

static PyObject *Pump_drain(Pump *self, PyObject *Py_UNUSED(unused))
{
    if (self->q && !self->busy && drain_queue(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Pump_turn_doc,
             "turn(runtime, keep=None)\n\nOne turn of a host-driven runtime (its braid_runtime* as an int) and the\n"
             "completions it posted to the queue, handled before returning; raises the\n"
             "turn's error (a turn already running is not one).  keep is not used: a loop's\n"
             "reader that passes the runtime's owner there keeps it alive.");

static PyObject *Pump_turn(Pump *self, PyObject *const *args, Py_ssize_t nargs)
{
    void *rt;
    int rc;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "turn(runtime, keep=None)");
        return NULL;
    }
    rt = PyLong_AsVoidPtr(args[0]);
    if (rt == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "turn: null runtime");
        return NULL;
    }
    if (!self->q || self->busy) {
        /* closed at exit, or called from a handler: a plain turn, whose
         * completions go through the queue's fd */
        rc = self->turn(rt, 0);
        if (rc < 0 && rc != E_BUSY)
            return raise_code(self, rc, "braid_runtime_turn");
        Py_RETURN_NONE;
    }
    rc = self->turn_take(rt, 0, self->q, self->records, self->batch, sizeof(record), self->arena, self->cap);
    if (rc < 0) {
        if (rc == E_BUSY)
            Py_RETURN_NONE;
        return raise_code(self, rc, "braid_runtime_turn_take");
    }
    if (rc > 0 && dispatch(self, rc) < 0)
        return NULL;
    if (rc == self->batch && self->q && drain_queue(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Pump_close_doc, "close()\n\nForgets the queue (its owner frees it next); later turns are plain turns.");

static PyObject *Pump_close(Pump *self, PyObject *Py_UNUSED(unused))
{
    self->q = NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Pump_methods[] = {
    {"drain", (PyCFunction)Pump_drain, METH_NOARGS, Pump_drain_doc},
    {"turn", (PyCFunction)(void (*)(void))Pump_turn, METH_FASTCALL, Pump_turn_doc},
    {"close", (PyCFunction)Pump_close, METH_NOARGS, Pump_close_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(Pump_doc, "Pump(take, turn_take, turn, queue, handlers, error, report, batch, cap)\n\n"
                       "An event loop's completion queue, drained in C (see braid/_aio.py's _Bridge).\n"
                       "take, turn_take, turn: the addresses of braid_completion_queue_take_bytes,\n"
                       "braid_runtime_turn_take and braid_runtime_turn; queue: the braid_completion_queue*;\n"
                       "handlers: the dict from an operation's user_data to its handler; error(code, what):\n"
                       "the exception for a braid error code; report(exc): a handler's exception after\n"
                       "the first of a batch (the first is raised); batch: records per take; cap: bytes per take.");

static PyTypeObject PumpType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "braid._speedups.Pump",
    .tp_basicsize = sizeof(Pump),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = Pump_doc,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Pump_init,
    .tp_dealloc = (destructor)Pump_dealloc,
    .tp_traverse = (traverseproc)Pump_traverse,
    .tp_clear = (inquiry)Pump_clear,
    .tp_methods = Pump_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "braid._speedups", "The braid package's completion dispatch in C (optional).", -1, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *m;
    if (PyType_Ready(&PumpType) < 0)
        return NULL;
    m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&PumpType);
    if (PyModule_AddObject(m, "Pump", (PyObject *)&PumpType) < 0 ||
        PyModule_AddIntConstant(m, "RECORD_SIZE", (long)sizeof(record)) < 0) {
        Py_DECREF(&PumpType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
