/* Python.h for Swift, plus inline wrappers for the macros Swift cannot import. */
#ifndef SWSGI_PYTHON_H
#define SWSGI_PYTHON_H
/* System headers first, as Swift's Glibc module sees them: pyconfig.h's feature macros would
   otherwise give fd_set and friends a second, conflicting definition inside this module. */
#include <sys/select.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* PyMemberDef, which Python.h only has from 3.12 */

#if PY_VERSION_HEX < 0x030A0000
#error "swsgi needs CPython 3.10 or newer"
#endif
#ifdef Py_GIL_DISABLED
#error "swsgi does not support free-threaded CPython builds (Py_GIL_DISABLED) yet"
#endif
#ifndef SWSGI_PYTHON_PROGRAM
#error "SWSGI_PYTHON_PROGRAM (the Python's bin/pythonX.Y) comes from the Makefile: build with make"
#endif

/* The program of the Python this module is built for: the landmark CPython finds its prefix
   by when no home is configured. */
static inline const char *swsgi_python_program(void) { return SWSGI_PYTHON_PROGRAM; }

static inline PyObject *swsgi_py_none(void) { return Py_None; }
static inline PyObject *swsgi_py_true(void) { return Py_True; }
static inline PyObject *swsgi_py_false(void) { return Py_False; }
static inline void swsgi_py_incref(PyObject *o) { Py_INCREF(o); }
static inline void swsgi_py_decref(PyObject *o) { Py_DECREF(o); }
static inline void swsgi_py_xdecref(PyObject *o) { Py_XDECREF(o); }
static inline int swsgi_py_bytes_check(PyObject *o) { return PyBytes_Check(o); }
static inline int swsgi_py_unicode_check(PyObject *o) { return PyUnicode_Check(o); }
static inline int swsgi_py_tuple_check(PyObject *o) { return PyTuple_Check(o); }
static inline int swsgi_py_list_check(PyObject *o) { return PyList_Check(o); }
static inline char *swsgi_py_bytes_data(PyObject *o) { return PyBytes_AS_STRING(o); }
static inline Py_ssize_t swsgi_py_bytes_size(PyObject *o) { return PyBytes_GET_SIZE(o); }
static inline Py_ssize_t swsgi_py_list_size(PyObject *o) { return PyList_GET_SIZE(o); }
static inline PyObject *swsgi_py_list_item(PyObject *o, Py_ssize_t i) { return PyList_GET_ITEM(o, i); }
static inline Py_ssize_t swsgi_py_tuple_size(PyObject *o) { return PyTuple_GET_SIZE(o); }
static inline PyObject *swsgi_py_tuple_item(PyObject *o, Py_ssize_t i) { return PyTuple_GET_ITEM(o, i); }
static inline PyTypeObject *swsgi_py_type(PyObject *o) { return Py_TYPE(o); }
static inline PyObject *swsgi_py_bool(int v) { return PyBool_FromLong(v); }
/* PyModuleDef_HEAD_INIT, whose PyObject layout differs between Python versions. */
static inline PyModuleDef_Base swsgi_py_moduledef_head(void) { PyModuleDef_Base head = PyModuleDef_HEAD_INIT; return head; }

/* An ASCII str's characters in place (NUL-terminated), or NULL for any other str. */
static inline const char *swsgi_py_ascii(PyObject *o, Py_ssize_t *size)
{
#if PY_VERSION_HEX < 0x030C0000
    /* Before 3.12 a str made through the legacy wchar_t API may not be "ready" yet. */
    if (PyUnicode_READY(o) != 0) {
        PyErr_Clear();
        return NULL;
    }
#endif
    if (!PyUnicode_IS_ASCII(o)) return NULL;
    *size = PyUnicode_GET_LENGTH(o);
    return (const char *)PyUnicode_DATA(o);
}

/* A str's characters in place (NUL-terminated) when each is one byte (Latin-1), as every str
   PyUnicode_DecodeLatin1 makes is; NULL for any other str. */
static inline const char *swsgi_py_latin1(PyObject *o)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(o) != 0) {
        PyErr_Clear();
        return NULL;
    }
#endif
    return PyUnicode_KIND(o) == PyUnicode_1BYTE_KIND ? (const char *)PyUnicode_DATA(o) : NULL;
}

/* Where a __slots__ class keeps the slot name in its instances (an object field, 16 being
   T_OBJECT_EX in every version), or -1 with an exception set: the gateway fills and reads
   the slots of the objects it makes without the attribute machinery. */
static inline Py_ssize_t swsgi_py_slot_offset(PyObject *type, const char *name)
{
    PyObject *descr = PyObject_GetAttrString(type, name);
    if (!descr)
        return -1;
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type) && ((PyMemberDescrObject *)descr)->d_member->type == 16)
        offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    Py_DECREF(descr);
    if (offset < 0)
        PyErr_Format(PyExc_TypeError, "swsgi: %s is not an object slot", name);
    return offset;
}

/* The slot at offset of object: borrowed, NULL when unset. */
static inline PyObject *swsgi_py_slot(PyObject *object, Py_ssize_t offset)
{
    return *(PyObject **)((char *)object + offset);
}

/* Sets an unset slot (of a new object) to a new reference to value. */
static inline void swsgi_py_slot_init(PyObject *object, Py_ssize_t offset, PyObject *value)
{
    Py_INCREF(value);
    *(PyObject **)((char *)object + offset) = value;
}

/* An empty dict with room for n items. _PyDict_NewPresized is private; it spares each
   environ (some 50 keys) its growth from 8 slots: 5,300 of 98,300 instructions of a hello
   request (bench/profile.py, 3.11). Where a Python drops it, PyDict_New. */
static inline PyObject *swsgi_py_dict_presized(Py_ssize_t n)
{
#if PY_VERSION_HEX < 0x030E0000
    return _PyDict_NewPresized(n);
#else
    (void)n;
    return PyDict_New();
#endif
}

/* Takes the pending exception, normalised, as new references (all NULL when none):
   PyErr_GetRaisedException from 3.12 on, where PyErr_Fetch is deprecated. */
static inline void swsgi_py_take_exception(PyObject **type, PyObject **value, PyObject **traceback)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *raised = PyErr_GetRaisedException();
    *value = raised;
    *type = raised ? Py_NewRef((PyObject *)Py_TYPE(raised)) : NULL;
    *traceback = raised ? PyException_GetTraceback(raised) : NULL;
#else
    PyErr_Fetch(type, value, traceback);
    PyErr_NormalizeException(type, value, traceback);
#endif
}

/* Creates a sub-interpreter: with a GIL of its own (PEP 684, 3.12+) when own_gil, else sharing
   the main interpreter's, as Py_NewInterpreter does. Called with a GIL held; returns with the
   new interpreter's GIL held and its thread state current. NULL with *error set on failure. */
static inline PyThreadState *swsgi_py_new_interpreter(int own_gil, const char **error)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (own_gil) {
        /* Separate object allocators are the price of a separate GIL, and so is refusing
           extensions that were not written for several interpreters. Threads (daemon ones
           too) and subprocesses work as in any interpreter; os.fork() does not. */
        PyInterpreterConfig config = {
            .use_main_obmalloc = 0,
            .allow_fork = 0,
            .allow_exec = 1,
            .allow_threads = 1,
            .allow_daemon_threads = 1,
            .check_multi_interp_extensions = 1,
            .gil = PyInterpreterConfig_OWN_GIL,
        };
        PyThreadState *state = NULL;
        PyStatus status = Py_NewInterpreterFromConfig(&state, &config);
        if (PyStatus_Exception(status)) {
            *error = status.err_msg ? status.err_msg : "Py_NewInterpreterFromConfig failed";
            return NULL;
        }
        return state;
    }
#endif
    (void)own_gil;
    PyThreadState *state = Py_NewInterpreter();
    if (!state) {
        *error = "Py_NewInterpreter failed";
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    /* Before 3.12 the _asyncio accelerator keeps one process-wide cache of the running loop,
       keyed by PyThreadState_GetID(), which counts per interpreter: a thread of another
       interpreter with the same id got that interpreter's loop, and its own loop failed with
       "Cannot run the event loop while another loop is running". Measured on 3.10 and 3.11;
       3.12+ keep the running loop per thread state. asyncio falls back to its pure-Python
       implementation here, before any app imports it; the main interpreter keeps the C one. */
    if (PyDict_SetItemString(PyImport_GetModuleDict(), "_asyncio", Py_None) < 0) {
        PyErr_Clear();
        *error = "cannot hide _asyncio from the sub-interpreter (it is left unused)";
        return NULL;
    }
#endif
    return state;
}

/* The fast-call signature, so that Swift can store such functions in a PyMethodDef. */
typedef PyObject *(*swsgi_fastcall)(PyObject *, PyObject *const *, Py_ssize_t);
static inline PyCFunction swsgi_py_fastcall_cast(swsgi_fastcall f) { return (PyCFunction)(void (*)(void))f; }

/* swsgi safety helpers (kept in one block at the end). */
/* _swsgi's "supports sub-interpreters with their own GIL" slot: filled in on Python 3.12+,
   where it exists (1); 0 before, where every interpreter shares the one GIL. */
static inline int swsgi_py_per_interpreter_gil_slot(PyModuleDef_Slot *slot)
{
#if PY_VERSION_HEX >= 0x030C0000
    slot->slot = Py_mod_multiple_interpreters;
    slot->value = Py_MOD_PER_INTERPRETER_GIL_SUPPORTED;
    return 1;
#else
    (void)slot;
    return 0;
#endif
}
#endif
