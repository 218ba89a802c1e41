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

/* An ASCII str's characters in place (NUL-terminated), or NULL for any other str. */
static inline const char *swsgi_py_ascii(PyObject *o, Py_ssize_t *size)
{
    if (PyUnicode_READY(o) != 0 || !PyUnicode_IS_ASCII(o)) {
        PyErr_Clear();
        return NULL;
    }
    *size = PyUnicode_GET_LENGTH(o);
    return (const char *)PyUnicode_DATA(o);
}

/* The fast-call signature, so that Swift can store such functions in a PyMethodDef. */
typedef PyObject *(*swsgi_fastcall)(PyObject *, PyObject *const *, Py_ssize_t);
static inline PyCFunction swsgi_py_fastcall_cast(swsgi_fastcall f) { return (PyCFunction)(void (*)(void))f; }
#endif
