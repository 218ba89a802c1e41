import CPython
import Glibc

/// The functions of `import mod_wsgi`, made as mod_wsgi 4.9.4 (6.x for start_recording_metrics)
/// makes them: built-in functions of no module, so that a call with the wrong arguments raises
/// the TypeError mod_wsgi's does, word for word ("process_metrics() takes no arguments (1
/// given)"). Each one's self is the support module, whose Python function of the name with a
/// leading underscore does the work (request_data's is the core's own, `_swsgi`'s).
enum ModWSGIFunctions {
    /// `{name: function}` for the support module (borrowed); nil with an exception set.
    static func make(support: PyPtr) -> PyPtr? {
        guard let functions = PyRef(PyDict_New()) else { return nil }
        for i in 0..<table.count {
            guard let function = PyRef(PyCFunction_NewEx(&definitions[i], support, nil)),
                  PyDict_SetItemString(functions.ptr, definitions[i].ml_name, function.ptr) == 0 else { return nil }
        }
        return functions.take()
    }

    // No capture in a C function: one closure for each name.
    private static let table: [(String, PyCFunction, Int32)] = [
        ("request_data", NativeModule.requestData, METH_NOARGS),
        ("process_metrics", { support, _ in call(support, "_process_metrics", nil) }, METH_NOARGS),
        ("server_metrics", { support, _ in call(support, "_server_metrics", nil) }, METH_NOARGS),
        ("request_metrics", { support, _ in call(support, "_request_metrics", nil) }, METH_NOARGS),
        ("start_recording_metrics", { support, _ in call(support, "_start_recording_metrics", nil) }, METH_NOARGS),
        ("subscribe_events", { support, args in call(support, "_subscribe_events", args) }, METH_VARARGS),
        ("subscribe_shutdown", { support, args in call(support, "_subscribe_shutdown", args) }, METH_VARARGS),
    ]

    private static let definitions = methodTable(table)

    /// support's function name, called with no arguments (args nil) or with the one argument
    /// of args, as mod_wsgi's PyArg_ParseTuple(args, "O") takes it.
    private static func call(_ support: PyPtr?, _ name: String, _ args: PyPtr?) -> PyPtr? {
        if let args, PyTuple_Size(args) != 1 {
            PyErr_SetString(PyExc_TypeError, "function takes exactly 1 argument (\(PyTuple_Size(args)) given)")
            return nil
        }
        guard let function = PyRef(PyObject_GetAttrString(support!, name)) else { return nil }
        return args.map { PyObject_Call(function.ptr, $0, nil) } ?? PyObject_CallNoArgs(function.ptr)
    }
}
