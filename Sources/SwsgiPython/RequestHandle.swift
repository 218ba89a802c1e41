import CPython

/// `_swsgi.Handle`: how the Python objects of a request (wsgi.input, wsgi.errors,
/// start_response) reach it. A native object whose only field, the request's address, Python
/// cannot see or set; it cannot be created from Python, and copies are the same object, so a
/// request expires for every holder at once. Pickling it is refused. One type per interpreter
/// (made in `_swsgi`'s exec slot), so no Python object is shared between interpreters.
package enum RequestHandle {
    private static let targetOffset = MemoryLayout<PyObject>.stride

    /// A new handle type for the module being executed; nil with an exception set.
    static func makeType(module: PyPtr) -> PyPtr? {
        PyType_FromModuleAndSpec(module, spec, nil)
    }

    /// A new handle of type for the live request at target.
    static func make(type: PyPtr, target: UnsafeMutableRawPointer) -> PyRef? {
        let typeObject = UnsafeMutableRawPointer(type).assumingMemoryBound(to: PyTypeObject.self)
        guard let object = PyRef(PyType_GenericAlloc(typeObject, 0)) else { return nil }
        slot(object.ptr).pointee = target
        return object
    }

    /// Ends the request for every holder of the handle.
    package static func expire(_ handle: borrowing PyRef) {
        slot(handle.ptr).pointee = nil
    }

    /// The request of object when it is a handle of type: `.some(nil)` once it has expired;
    /// nil, with a TypeError set, when object is anything else.
    static func target(of object: PyPtr, type: PyPtr) -> UnsafeMutableRawPointer?? {
        guard swsgi_py_type(object) == UnsafeMutableRawPointer(type).assumingMemoryBound(to: PyTypeObject.self) else {
            PyErr_SetString(PyExc_TypeError, "swsgi: expected a request handle, not \(typeName(object))")
            return nil
        }
        return .some(slot(object).pointee)
    }

    private static func slot(_ object: PyPtr) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        (UnsafeMutableRawPointer(object) + targetOffset).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    private static let spec: UnsafeMutablePointer<PyType_Spec> = {
        let slots: [(Int32, UnsafeMutableRawPointer?)] = [
            (Py_tp_dealloc, unsafeBitCast(dealloc, to: UnsafeMutableRawPointer.self)),
            (Py_tp_methods, UnsafeMutableRawPointer(methods)),
            (Py_tp_doc, UnsafeMutableRawPointer(mutating: strdup("An swsgi request, valid while it lasts."))),
        ]
        let table = UnsafeMutablePointer<PyType_Slot>.allocate(capacity: slots.count + 1)
        for (i, (id, function)) in slots.enumerated() { table[i] = PyType_Slot(slot: id, pfunc: function) }
        table[slots.count] = PyType_Slot(slot: 0, pfunc: nil)
        let spec = UnsafeMutablePointer<PyType_Spec>.allocate(capacity: 1)
        spec.initialize(to: PyType_Spec(
            name: UnsafePointer(strdup("_swsgi.Handle")), basicsize: Int32(targetOffset + MemoryLayout<UnsafeMutableRawPointer?>.size),
            itemsize: 0, flags: UInt32(Py_TPFLAGS_DEFAULT) | UInt32(Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE),
            slots: table))
        return spec
    }()

    /// Instances of a heap type hold a reference to it.
    private static let dealloc: destructor = { object in
        let type = UnsafeMutableRawPointer(swsgi_py_type(object!)!)
        PyObject_Free(object)
        swsgi_py_decref(type.assumingMemoryBound(to: PyObject.self))
    }

    /// copy.copy and copy.deepcopy give the handle itself (a copied wsgi.input expires with
    /// its request); pickle is refused, since a request cannot outlive its process.
    private static let methods: UnsafeMutablePointer<PyMethodDef> = {
        let same: PyCFunction = { handle, _ in PyRef(borrowing: handle!).take() }
        let refuse: PyCFunction = { _, _ in
            PyErr_SetString(PyExc_TypeError, "swsgi: a request handle cannot be pickled")
            return nil
        }
        let table: [(String, PyCFunction, Int32)] = [
            ("__copy__", same, METH_NOARGS), ("__deepcopy__", same, METH_O), ("__reduce__", refuse, METH_NOARGS),
        ]
        return methodTable(table)
    }()
}
