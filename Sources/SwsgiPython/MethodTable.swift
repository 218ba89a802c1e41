import CPython
import Glibc

/// A NULL-terminated PyMethodDef array for CPython, made once and never freed (types and
/// modules keep pointing at it): (name, function, METH_ flags) each.
func methodTable(_ table: [(String, PyCFunction, Int32)]) -> UnsafeMutablePointer<PyMethodDef> {
    let defs = UnsafeMutablePointer<PyMethodDef>.allocate(capacity: table.count + 1)
    for (i, (name, function, flags)) in table.enumerated() {
        defs[i] = PyMethodDef(ml_name: UnsafePointer(strdup(name)), ml_meth: function, ml_flags: flags, ml_doc: nil)
    }
    defs[table.count] = PyMethodDef()
    return defs
}
