import CPython
import Glibc

typealias ThreadState = UnsafeMutablePointer<PyThreadState>

/// Apache's worker threads are not Python's: each gets one PyThreadState per interpreter,
/// created on first use and kept for the thread's life, so that a request costs no thread
/// state allocation, and remembers the interpreters it has found. Stored in a pthread key,
/// since Swift has no thread-local variables; released when the thread exits (the thread
/// states stay with their interpreters, which free them when they end).
final class ThreadStates {
    private var key = pthread_key_t()

    init() {
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<PerThread>.fromOpaque(raw).release() }
        }
    }

    private final class PerThread {
        var states: [ThreadState?] = []
        var interpreters: [String: Interpreter] = [:]
    }

    private func perThread() -> PerThread {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<PerThread>.fromOpaque(raw).takeUnretainedValue()
        }
        let fresh = PerThread()
        pthread_setspecific(key, Unmanaged.passRetained(fresh).toOpaque())
        return fresh
    }

    /// Records a thread state that already exists for this thread (made by Python itself).
    func adopt(_ state: ThreadState, index: Int) {
        let mine = perThread()
        while mine.states.count <= index { mine.states.append(nil) }
        mine.states[index] = state
    }

    /// The interpreter of an application group, as this thread found it before, or as find
    /// gives it the first time (which then takes a lock).
    func interpreter(named group: String, orFind find: (String) -> Interpreter?) -> Interpreter? {
        let mine = perThread()
        if let known = mine.interpreters[group] { return known }
        let found = find(group)
        mine.interpreters[group] = found
        return found
    }

    /// This thread's state in interpreter, created the first time.
    func state(for interpreter: Interpreter) -> ThreadState {
        let mine = perThread()
        if interpreter.index < mine.states.count, let state = mine.states[interpreter.index] { return state }
        let state = PyThreadState_New(interpreter.state)!
        adopt(state, index: interpreter.index)
        return state
    }
}
