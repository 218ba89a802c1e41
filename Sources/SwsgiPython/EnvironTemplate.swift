import CPython
import Glibc
import SwsgiABI

/// The items of an environ after the CGI variables, in order: fixed ones (the same object on
/// most requests: constants, the dispatch's texts) and ones made for each request (wsgi.input,
/// the timings). Holds a reference to each value.
package struct EnvironExtras: ~Copyable {
    fileprivate struct Item {
        let key: PyPtr
        let value: PyPtr
        let perRequest: Bool
    }

    fileprivate var items: [Item] = []

    package init() { items.reserveCapacity(24) }

    deinit { for item in items { swsgi_py_decref(item.value) } }

    package mutating func fixed(_ key: PyConstant, _ value: PyConstant) {
        swsgi_py_incref(value.ptr)
        items.append(Item(key: key.ptr, value: value.ptr, perRequest: false))
    }

    package mutating func fixed(_ key: PyConstant, _ value: Bool) {
        fixed(key, PyConstant(value ? swsgi_py_true() : swsgi_py_false()))
    }

    package mutating func fixed(_ key: PyConstant, _ value: consuming PyRef) {
        items.append(Item(key: key.ptr, value: value.take(), perRequest: false))
    }

    package mutating func perRequest(_ key: PyConstant, _ value: consuming PyRef) {
        items.append(Item(key: key.ptr, value: value.take(), perRequest: true))
    }
}

/// Each environ a copy of the previous request's. Requests to the same app mostly bring the
/// same CGI variables in the same order, most with the same values: inserting some fifty keys
/// into a new dict costs more than the rest of the environ, and copying a dict of str keys is
/// a memcpy. The template holds the variables' values as last seen (values over 1 KiB are
/// not kept, as they would hold memory for little gain) and None for what each request makes
/// anew; a request whose variable names or fixed extras differ builds its environ afresh and
/// becomes the template, if its keys are all different (a duplicate's last value wins, which
/// a copy could not tell). One per interpreter, only used with its GIL held. Its state only
/// changes between allocations that cannot start a collection (whose finalizers could let
/// another thread in), except for the template's own copy, guarded by `generation`.
package final class EnvironTemplate {
    /// A strong reference. The state is only touched with the GIL held, which serialises
    /// every access: unchecked, since each access would otherwise cost a tracked exclusivity check.
    @exclusivity(unchecked) private var template: PyPtr? {
        didSet { if let oldValue { swsgi_py_decref(oldValue) } }
    }
    /// What the template holds, by position: the variables' keys and values (nil: made anew
    /// each time), their count, the extras (nil value: made anew each time).
    private static let positions = 128
    private static let longestKept = 1024
    private let keys = UnsafeMutablePointer<PyPtr?>.allocate(capacity: EnvironTemplate.positions)
    private let values = UnsafeMutablePointer<PyPtr?>.allocate(capacity: EnvironTemplate.positions)
    @exclusivity(unchecked) private var count = 0
    @exclusivity(unchecked) private var extraKeys: [PyPtr] = []
    @exclusivity(unchecked) private var extraValues: [PyPtr?] = []
    @exclusivity(unchecked) private var generation = 0
    /// The last str of each text slot, with its text.
    @exclusivity(unchecked) private var texts: [(String, PyPtr)?] = []

    package init() {
        keys.initialize(repeating: nil, count: Self.positions)
        values.initialize(repeating: nil, count: Self.positions)
    }

    /// The str of text: the same object as last time when slot had the same text (a fixed
    /// extra has to be the same object to keep the template). nil with an exception set.
    package func text(_ text: String, slot: Int) -> PyRef? {
        while texts.count <= slot { texts.append(nil) }
        if let last = texts[slot], last.0 == text { return PyRef(borrowing: last.1) }
        guard let object = PyRef(text.withCString { PyUnicode_DecodeLatin1($0, strlen($0), nil) }) else { return nil }
        if let old = texts[slot] { swsgi_py_decref(old.1) }
        texts[slot] = (text, object.copy().take())
        return object
    }

    /// A new environ: the request's CGI variables but those skip refuses, each value the
    /// Latin-1 decoding of its bytes (PEP 3333), then extras. nil with an exception set.
    package func environ(of request: UnsafePointer<swsgi_request>, keyCache: KeyCache,
                         skipping skip: (UnsafePointer<CChar>) -> Bool, extras: borrowing EnvironExtras) -> PyRef? {
        var long: [(PyPtr, PyPtr)] = []
        defer { for (_, value) in long { swsgi_py_decref(value) } }
        if let template, sameExtras(extras) {
            switch update(template, request, skipping: skip, long: &long) {
            case .none: return nil
            case .some(true): return copy(template, long: long, extras: extras)
            case .some(false): break
            }
        }
        return rebuild(request, keyCache: keyCache, skipping: skip, extras: extras)
    }

    private func sameExtras(_ extras: borrowing EnvironExtras) -> Bool {
        let items = extras.items
        guard items.count == extraKeys.count else { return false }
        for i in 0..<items.count where items[i].key != extraKeys[i] || (items[i].perRequest ? nil : items[i].value) != extraValues[i] {
            return false
        }
        return true
    }

    /// Brings the template's values up to the request's: false when its variable names
    /// differ from the template's, nil with an exception set. long gets the values that are
    /// not kept, by key (new references).
    private func update(_ template: PyPtr, _ request: UnsafePointer<swsgi_request>, skipping skip: (UnsafePointer<CChar>) -> Bool,
                        long: inout [(PyPtr, PyPtr)]) -> Bool? {
        let r = request.pointee
        var position = 0
        for i in 0..<r.count {
            guard let key = r.keys[i], let value = r.values[i], !skip(key) else { continue }
            guard position < count, let last = keys[position], sameText(last, key) else { return false }
            defer { position += 1 }
            if let old = values[position], let chars = swsgi_py_latin1(old), strcmp(chars, value) == 0 { continue }
            let length = strlen(value)
            guard let fresh = PyUnicode_DecodeLatin1(value, length, nil) else { return nil }
            if length <= Self.longestKept {
                // Replacing a value allocates nothing.
                PyDict_SetItem(template, last, fresh)
                swsgi_py_xdecref(values[position])
                values[position] = fresh
            } else {
                if let old = values[position] {
                    PyDict_SetItem(template, last, swsgi_py_none())
                    swsgi_py_decref(old)
                    values[position] = nil
                }
                long.append((last, fresh))
            }
        }
        return position == count
    }

    /// The app's copy of the template, with this request's own values.
    private func copy(_ template: PyPtr, long: [(PyPtr, PyPtr)], extras: borrowing EnvironExtras) -> PyRef? {
        guard let environ = PyRef(PyDict_Copy(template)) else { return nil }
        for (key, value) in long { PyDict_SetItem(environ.ptr, key, value) }
        for item in extras.items where item.perRequest { PyDict_SetItem(environ.ptr, item.key, item.value) }
        return environ
    }

    /// The environ made afresh, item by item, reusing the template's key and value str at
    /// each position where the bytes are the same; then the template made from it.
    private func rebuild(_ request: UnsafePointer<swsgi_request>, keyCache: KeyCache,
                         skipping skip: (UnsafePointer<CChar>) -> Bool, extras: borrowing EnvironExtras) -> PyRef? {
        let r = request.pointee
        // Sized for the variables and the extras, so that it never grows.
        guard let environ = PyRef(swsgi_py_dict_presized(r.count + extras.items.count + 8)) else { return nil }
        template = nil
        generation += 1
        let started = generation
        var position = 0
        for i in 0..<r.count {
            guard let key = r.keys[i], let value = r.values[i], !skip(key) else { continue }
            defer { position += 1 }
            guard position < Self.positions else {
                guard let fresh = PyRef(PyUnicode_DecodeLatin1(value, strlen(value), nil)),
                      keyCache.withObject(for: key, { PyDict_SetItem(environ.ptr, $0, fresh.ptr) }) else { return nil }
                continue
            }
            if keys[position].map({ !sameText($0, key) }) ?? true {
                var found: PyPtr?
                guard keyCache.withObject(for: key, { found = $0 }), let found else { return nil }
                swsgi_py_incref(found)
                swsgi_py_xdecref(keys[position])
                keys[position] = found
            }
            if let old = values[position], let chars = swsgi_py_latin1(old), strcmp(chars, value) == 0 {
                PyDict_SetItem(environ.ptr, keys[position]!, old)
                continue
            }
            let length = strlen(value)
            guard let fresh = PyRef(PyUnicode_DecodeLatin1(value, length, nil)) else { return nil }
            PyDict_SetItem(environ.ptr, keys[position]!, fresh.ptr)
            swsgi_py_xdecref(values[position])
            values[position] = length <= Self.longestKept ? fresh.copy().take() : nil
        }
        for item in extras.items { PyDict_SetItem(environ.ptr, item.key, item.value) }
        count = position
        // A template only for distinct keys, each of which a copy can replace.
        guard position <= Self.positions, PyDict_Size(environ.ptr) == position + extras.items.count,
              let made = PyRef(PyDict_Copy(environ.ptr)) else {
            Python.clearError()
            return environ
        }
        // The copy may have let another thread rebuild the template meanwhile.
        guard generation == started else { return environ }
        for p in 0..<position where values[p] == nil { PyDict_SetItem(made.ptr, keys[p]!, swsgi_py_none()) }
        for item in extras.items where item.perRequest { PyDict_SetItem(made.ptr, item.key, swsgi_py_none()) }
        extraKeys = extras.items.map(\.key)
        extraValues = extras.items.map { $0.perRequest ? nil : $0.value }
        template = made.take()
        return environ
    }
}

/// Whether an ASCII str has the characters of text (the str of other bytes is their UTF-8
/// decoding, which these bytes would not match).
@inline(__always)
func sameText(_ object: PyPtr, _ text: UnsafePointer<CChar>) -> Bool {
    var size = 0
    guard let chars = swsgi_py_ascii(object, &size) else { return false }
    return strcmp(chars, text) == 0
}
