import CPython

/// One of the support module's __slots__ classes (start_response's object, wsgi.input,
/// wsgi.errors), whose instances the gateway makes and reads through the slots' offsets:
/// setting five attributes the usual way costs more than making the object.
struct SlotClass {
    let type: PyPtr
    /// The offsets of the slots named at init, in that order.
    private let offsets: [Int]

    /// nil with an exception set when a name is not an object slot of type.
    init?(_ type: PyPtr, slots: [String]) {
        var offsets: [Int] = []
        for name in slots {
            let offset = swsgi_py_slot_offset(type, name)
            if offset < 0 { return nil }
            offsets.append(offset)
        }
        self.type = type
        self.offsets = offsets
    }

    /// A new instance with its slots set to values (borrowed), in the order of the names;
    /// __init__ is not called.
    @inline(__always)
    func make(_ values: PyPtr...) -> PyRef? {
        let typeObject = UnsafeMutableRawPointer(type).assumingMemoryBound(to: PyTypeObject.self)
        guard let object = PyRef(typeObject.pointee.tp_alloc(typeObject, 0)) else { return nil }
        for (offset, value) in zip(offsets, values) { swsgi_py_slot_init(object.ptr, offset, value) }
        return object
    }

    /// The value of slot index of object, one of this class's instances; nil when unset.
    func value(of object: borrowing PyRef, slot index: Int) -> PyRef? {
        swsgi_py_slot(object.ptr, offsets[index]).map { PyRef(borrowing: $0) }
    }
}
