// The daemon's timing policies on a fake clock, in milliseconds: each deadline is reached at
// its instant and not a millisecond before; the registry's invariants are asserted (debug) on
// every event.
import SwsgiPolicy
import XCTest

typealias Policy = DaemonPolicy<String>

extension Policy {
    /// A connection with its request running since `now`.
    mutating func run(_ id: Int32, at now: Milliseconds) {
        accepted(id, "c\(id)", at: now)
        XCTAssertEqual(readable(id), "c\(id)")
        requestArrived(id)
        XCTAssertEqual(take(at: now)?.id, id)
    }

    /// A connection between requests.
    mutating func idle(_ id: Int32, at now: Milliseconds) {
        accepted(id, "c\(id)", at: now)
        _ = readable(id)
    }

    func phase(_ id: Int32) -> Phase? { connections[id]?.phase }
}

func exits(_ decisions: [Decision<String>]) -> [StopReason] {
    decisions.compactMap { if case .exit(let reason, _) = $0 { reason } else { nil } }
}

func stops(_ decisions: [Decision<String>]) -> [StopReason] {
    decisions.compactMap { if case .stopping(let reason) = $0 { reason } else { nil } }
}

final class FreshConnectionTests: XCTestCase {
    func testASilentConnectionStopsCountingAfterOneSecond() {
        var policy = Policy(limits: Limits(threads: 1), now: 0)
        XCTAssertTrue(policy.wantsConnections)
        policy.accepted(5, "c5", at: 100)
        XCTAssertFalse(policy.wantsConnections, "a fresh connection speaks for the only worker")
        XCTAssertEqual(policy.tick(at: 1099), [])
        XCTAssertFalse(policy.wantsConnections)
        XCTAssertEqual(policy.tick(at: 1100), [])
        XCTAssertEqual(policy.phase(5), .idle)
        XCTAssertTrue(policy.wantsConnections)
    }

    func testWhatItSendsEndsFreshnessAndItsRequestKeepsTheWorker() {
        var policy = Policy(limits: Limits(threads: 1), now: 0)
        policy.accepted(5, "c5", at: 0)
        XCTAssertEqual(policy.readable(5), "c5")
        XCTAssertEqual(policy.phase(5), .idle)
        XCTAssertTrue(policy.wantsConnections, "part of a frame holds no worker")
        policy.requestArrived(5)
        XCTAssertFalse(policy.wantsConnections, "a queued request needs the worker")
        XCTAssertNil(policy.readable(5), "a queued connection is not read")
        XCTAssertEqual(policy.take(at: 10)?.link, "c5")
        XCTAssertNil(policy.take(at: 10))
        XCTAssertFalse(policy.wantsConnections)
        XCTAssertEqual(policy.finished(5, reusable: true, restartNeeded: false, at: 20), [.resume(5, "c5")])
        XCTAssertTrue(policy.wantsConnections)
    }

    func testAConnectionAcceptedAsAWorkerStopsTheProcessIsTurnedAway() {
        var policy = Policy(limits: Limits(threads: 2, maximumRequests: 1), now: 0)
        policy.run(1, at: 0)
        _ = policy.finished(1, reusable: true, restartNeeded: false, at: 10)
        XCTAssertFalse(policy.accepted(2, "c2", at: 10))
        XCTAssertTrue(policy.connections.isEmpty)
    }

    func testQueuedRequestsAreTakenOldestFirst() {
        var policy = Policy(limits: Limits(threads: 2), now: 0)
        for id: Int32 in [7, 3, 9] { policy.idle(id, at: 0) }
        for id: Int32 in [9, 3, 7] { policy.requestArrived(id) }
        XCTAssertEqual(policy.take(at: 1)?.id, 9)
        XCTAssertEqual(policy.take(at: 1)?.id, 3)
        XCTAssertEqual(policy.closed(7), "c7")
        XCTAssertNil(policy.take(at: 1), "a closed connection leaves the queue")
    }
}

final class RequestTimeoutTests: XCTestCase {
    func testFiresAtItsInstantAndTheProcessExitsWhenOnlyTheStuckRequestIsLeft() {
        var policy = Policy(limits: Limits(threads: 2, requestTimeout: 5, gracefulTimeout: 15, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 100)
        policy.idle(2, at: 100)
        XCTAssertEqual(policy.tick(at: 5099), [])
        let decisions = policy.tick(at: 5100)
        XCTAssertEqual(decisions, [.timeOut(1, "c1"), .stopping(reason: .requestTimeout), .stopAccepting,
                                   .close(2, "c2", farewell: true), .exit(reason: .requestTimeout, exitFunctionsWithin: 5)])
        XCTAssertEqual(policy.phase(1), .overdue)
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 6000), [.close(1, "c1", farewell: false)],
                       "an aborted connection is never reused")
    }

    func testARequestThatTimesItselfIsLeftToDoSo() {
        var policy = Policy(limits: Limits(threads: 2, requestTimeout: 5, gracefulTimeout: 15, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 0)
        policy.timesItself(1)
        XCTAssertEqual(policy.tick(at: 60000), [], "no abort and no restart")
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 60001), [.resume(1, "c1")])
        XCTAssertEqual(policy.readable(1), "c1")
        policy.requestArrived(1)
        XCTAssertEqual(policy.take(at: 70000)?.id, 1)
        XCTAssertEqual(stops(policy.tick(at: 75000)), [.requestTimeout], "the next request on the connection is timed again")
    }

    func testEveryRequestPastItIsAbortedAndTheProcessExitsWhenNoneIsLeftRunning() {
        var policy = Policy(limits: Limits(threads: 2, requestTimeout: 5, gracefulTimeout: 15, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 0)
        policy.run(2, at: 3000)
        XCTAssertEqual(stops(policy.tick(at: 5000)), [.requestTimeout])
        XCTAssertEqual(policy.phase(2), .running(since: 3000))
        XCTAssertEqual(policy.tick(at: 7999), [])
        XCTAssertEqual(policy.tick(at: 8000), [.timeOut(2, "c2"), .exit(reason: .requestTimeout, exitFunctionsWithin: 5)])
    }

    func testOtherRunningRequestsMayFinishWithinGracefulTimeout() {
        var policy = Policy(limits: Limits(threads: 2, requestTimeout: 5, gracefulTimeout: 2), now: 0)
        policy.run(1, at: 0)
        policy.run(2, at: 4000)
        XCTAssertEqual(stops(policy.tick(at: 5000)), [.requestTimeout])
        XCTAssertEqual(policy.tick(at: 6999), [])
        XCTAssertEqual(exits(policy.tick(at: 7000)), [.requestTimeout])
    }

    func testAFinishedRequestIsNotTimedOut() {
        var policy = Policy(limits: Limits(requestTimeout: 5), now: 0)
        policy.run(1, at: 0)
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 4999), [.resume(1, "c1")])
        XCTAssertEqual(policy.tick(at: 5000), [])
        XCTAssertEqual(policy.tick(at: 60000), [])
    }
}

final class InterruptTimeoutTests: XCTestCase {
    func testTheStuckRequestIsInterruptedAtRequestTimeoutAndTheProcessGoesOn() {
        var policy = Policy(limits: Limits(threads: 2, requestTimeout: 5, interruptTimeout: 3), now: 0)
        policy.run(1, at: 100)
        policy.idle(2, at: 100)
        XCTAssertEqual(policy.tick(at: 5099), [])
        XCTAssertEqual(policy.tick(at: 5100), [.interrupt(1, "c1")])
        XCTAssertEqual(policy.phase(1), .interrupted(since: 5100))
        XCTAssertTrue(policy.accepting, "an interruption stops nothing")
        XCTAssertEqual(policy.tick(at: 8099), [], "interrupted once, not again")
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 8099), [.resume(1, "c1")],
                       "a request that unwound leaves its connection reusable")
        XCTAssertEqual(policy.tick(at: 60000), [])
        XCTAssertNil(policy.stop)
    }

    func testARequestThatDoesNotUnwindWithinInterruptTimeoutRestartsTheProcess() {
        var policy = Policy(limits: Limits(threads: 2, requestTimeout: 5, interruptTimeout: 3, gracefulTimeout: 15, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 0)
        policy.idle(2, at: 0)
        XCTAssertEqual(policy.tick(at: 5000), [.interrupt(1, "c1")])
        XCTAssertEqual(policy.tick(at: 7999), [])
        XCTAssertEqual(policy.tick(at: 8000), [.timeOut(1, "c1"), .stopping(reason: .requestTimeout), .stopAccepting,
                                               .close(2, "c2", farewell: true), .exit(reason: .requestTimeout, exitFunctionsWithin: 5)])
        XCTAssertEqual(policy.phase(1), .overdue)
    }

    func testEachStuckRequestHasItsOwnInterruptTimeout() {
        var policy = Policy(limits: Limits(threads: 3, requestTimeout: 5, interruptTimeout: 3), now: 0)
        policy.run(1, at: 0)
        policy.run(2, at: 2000)
        XCTAssertEqual(policy.tick(at: 5000), [.interrupt(1, "c1")])
        XCTAssertEqual(policy.tick(at: 7000), [.interrupt(2, "c2")])
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 7500), [.resume(1, "c1")])
        XCTAssertEqual(policy.tick(at: 9999), [])
        XCTAssertEqual(stops(policy.tick(at: 10000)), [.requestTimeout])
    }

    func testAnInterruptedRequestHoldsAStopBackUntilItsInterruptTimeout() {
        var policy = Policy(limits: Limits(threads: 2, maximumRequests: 2, requestTimeout: 5, interruptTimeout: 3, gracefulTimeout: 60), now: 0)
        policy.run(1, at: 0)
        XCTAssertEqual(policy.tick(at: 5000), [.interrupt(1, "c1")])
        policy.run(2, at: 5000)
        XCTAssertEqual(policy.finished(2, reusable: true, restartNeeded: false, at: 5100),
                       [.close(2, "c2", farewell: true)], "maximum-requests began a stop")
        XCTAssertEqual(exits(policy.tick(at: 7999)), [], "the interrupted request may still unwind")
        XCTAssertEqual(exits(policy.tick(at: 8000)), [.maximumRequests(2)],
                       "once overdue it holds nothing back")
    }
}

final class InactivityTimeoutTests: XCTestCase {
    func testFiresAfterTheStartWhenNothingCame() {
        var policy = Policy(limits: Limits(inactivityTimeout: 10, gracefulTimeout: 15, shutdownTimeout: 5), now: 1000)
        policy.idle(4, at: 1000)
        XCTAssertEqual(policy.tick(at: 10999), [])
        XCTAssertEqual(policy.tick(at: 11000), [.stopping(reason: .inactivityTimeout(seconds: 10)), .stopAccepting,
                                                .close(4, "c4", farewell: true),
                                                .exit(reason: .inactivityTimeout(seconds: 10), exitFunctionsWithin: 5)])
    }

    func testARequestFinishingJustBeforeTheDeadlineStartsItAgain() {
        var policy = Policy(limits: Limits(inactivityTimeout: 10), now: 0)
        policy.run(1, at: 5000)
        _ = policy.finished(1, reusable: true, restartNeeded: false, at: 9999)
        XCTAssertEqual(policy.tick(at: 10000), [])
        XCTAssertEqual(policy.tick(at: 19998), [])
        XCTAssertEqual(stops(policy.tick(at: 19999)), [.inactivityTimeout(seconds: 10)])
    }

    func testARunningRequestIsActivity() {
        var policy = Policy(limits: Limits(inactivityTimeout: 10), now: 0)
        policy.run(1, at: 1000)
        XCTAssertEqual(policy.tick(at: 50000), [])
        _ = policy.finished(1, reusable: true, restartNeeded: false, at: 50000)
        XCTAssertEqual(policy.tick(at: 59999), [])
        XCTAssertEqual(stops(policy.tick(at: 60000)), [.inactivityTimeout(seconds: 10)])
    }
}

final class RestartTests: XCTestCase {
    func testEvictionTimeoutAfterSIGUSR1BoundsABusyRequest() {
        var policy = Policy(limits: Limits(threads: 2, gracefulTimeout: 15, evictionTimeout: 3, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 500)
        policy.idle(2, at: 500)
        XCTAssertEqual(policy.received([.restart], at: 1000), [.stopping(reason: .restart), .stopAccepting,
                                                             .close(2, "c2", farewell: true)])
        XCTAssertFalse(policy.wantsConnections)
        XCTAssertEqual(policy.tick(at: 3999), [])
        XCTAssertEqual(policy.tick(at: 4000), [.exit(reason: .restart, exitFunctionsWithin: 5)])
    }

    func testSIGUSR1WithoutEvictionTimeoutWaitsNoLongerThanTheRequests() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15), now: 0)
        policy.run(1, at: 0)
        _ = policy.received([.restart], at: 1000)
        XCTAssertEqual(policy.tick(at: 11999), [])
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 12000), [.close(1, "c1", farewell: true)])
        XCTAssertEqual(exits(policy.tick(at: 12000)), [.restart])
    }

    func testRestartIntervalWithABusyProcessWaitsForGracefulTimeout() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15, restartInterval: 60), now: 0)
        policy.run(1, at: 59000)
        XCTAssertEqual(policy.tick(at: 59999), [])
        XCTAssertEqual(stops(policy.tick(at: 60000)), [.restartInterval(seconds: 60)])
        XCTAssertEqual(policy.tick(at: 74999), [])
        XCTAssertEqual(exits(policy.tick(at: 75000)), [.restartInterval(seconds: 60)])
    }

    func testRestartIntervalWithAnIdleProcessExitsAtOnce() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15, restartInterval: 60), now: 0)
        policy.idle(1, at: 0)
        XCTAssertEqual(policy.tick(at: 59999), [])
        XCTAssertEqual(exits(policy.tick(at: 60000)), [.restartInterval(seconds: 60)])
        XCTAssertTrue(policy.connections.isEmpty)
    }

    func testMaximumRequestsCountsRequestsAsTheyStart() {
        // A request that arrives while the last one runs (another connection of an Apache
        // child that already had its answer) is never started here: the next process gets it.
        var policy = Policy(limits: Limits(threads: 3, maximumRequests: 2, gracefulTimeout: 15), now: 0)
        policy.run(1, at: 0)
        for id: Int32 in [3, 2, 4] { policy.idle(id, at: 0) }
        policy.requestArrived(3)
        policy.requestArrived(2)
        guard let last = policy.take(at: 50) else { return XCTFail("the second request must start") }
        XCTAssertEqual(last.id, 3)
        XCTAssertEqual(stops(last.decisions), [.maximumRequests(2)])
        XCTAssertTrue(last.decisions.contains(.close(2, "c2", farewell: true)), "a queued request is turned away unstarted")
        XCTAssertTrue(last.decisions.contains(.close(4, "c4", farewell: true)), "idle connections are told")
        XCTAssertNil(policy.take(at: 50), "nothing more is started")
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 100), [.close(1, "c1", farewell: true)])
        XCTAssertEqual(policy.tick(at: 300), [], "the last request may finish")
        XCTAssertEqual(policy.finished(3, reusable: true, restartNeeded: false, at: 400), [.close(3, "c3", farewell: true)])
        XCTAssertEqual(policy.served, 2)
        XCTAssertEqual(exits(policy.tick(at: 400)), [.maximumRequests(2)])
    }

    func testMaximumRequestsWithAStuckRequestExitsAtGracefulTimeout() {
        var policy = Policy(limits: Limits(threads: 2, maximumRequests: 2, gracefulTimeout: 15), now: 0)
        policy.run(1, at: 0)
        policy.run(2, at: 1000)
        _ = policy.finished(1, reusable: true, restartNeeded: false, at: 2000)
        XCTAssertEqual(policy.tick(at: 15999), [])
        XCTAssertEqual(exits(policy.tick(at: 16000)), [.maximumRequests(2)])
    }

    func testAChangedScriptRestartsWithinGracefulTimeout() {
        var policy = Policy(limits: Limits(threads: 2, gracefulTimeout: 15), now: 0)
        policy.run(1, at: 0)
        policy.run(2, at: 0)
        // The request was turned away unstarted on its connection, which cannot be reused.
        XCTAssertEqual(policy.finished(1, reusable: false, restartNeeded: true, at: 100),
                       [.stopping(reason: .scriptChanged), .stopAccepting, .close(1, "c1", farewell: false)])
        XCTAssertEqual(policy.tick(at: 15099), [])
        XCTAssertEqual(exits(policy.tick(at: 15100)), [.scriptChanged])
    }

    func testStartupTimeoutCountsFromTheFirstFailedLoad() {
        var policy = Policy(limits: Limits(shutdownTimeout: 5, startupTimeout: 5), now: 0)
        XCTAssertEqual(policy.tick(at: 100000), [], "no failed load, no startup-timeout")
        XCTAssertEqual(policy.tick(at: 104999, loadFailedSince: 100000), [])
        XCTAssertEqual(exits(policy.tick(at: 105000, loadFailedSince: 100000)),
                       [.startupTimeout(seconds: 5)])
    }
}

final class DrainTests: XCTestCase {
    func testSIGTERMLetsRunningRequestsFinishAndTurnsAwayEveryOther() {
        var policy = Policy(limits: Limits(threads: 4, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 0)
        policy.run(2, at: 0)
        policy.idle(3, at: 0)
        policy.idle(4, at: 0)
        policy.requestArrived(4)
        XCTAssertEqual(policy.received([.stop], at: 1000),
                       [.stopping(reason: .shutdown), .stopAccepting,
                        .close(3, "c3", farewell: true), .close(4, "c4", farewell: true), .alarm(seconds: 6)],
                       "an idle connection's next request, and a queued one, are answered rejected")
        XCTAssertFalse(policy.wantsConnections)
        XCTAssertNil(policy.take(at: 1000))
        XCTAssertEqual(policy.finished(1, reusable: true, restartNeeded: false, at: 2000), [.close(1, "c1", farewell: true)])
        XCTAssertEqual(policy.tick(at: 2000), [], "a running request holds the exit")
        XCTAssertEqual(policy.finished(2, reusable: true, restartNeeded: false, at: 2500), [.close(2, "c2", farewell: true)])
        XCTAssertEqual(policy.tick(at: 2500), [.exit(reason: .shutdown, exitFunctionsWithin: 4)])
    }

    func testAStopWithARestartUnderSteadyLoadServesNoNewRequestAndExitsWhenTheRunningOnesEnd() {
        // Apache children's pooled connections send the next request as soon as the last one
        // ends: none may be served once the process is stopping, else it is never idle and
        // shutdown-timeout cuts whatever runs then (a 502 for the client).
        var policy = Policy(limits: Limits(threads: 8, gracefulTimeout: 5, shutdownTimeout: 5), now: 0)
        for id: Int32 in 1...6 { policy.run(id, at: 0) }
        XCTAssertEqual(stops(policy.received([.restart, .stop], at: 100)), [.shutdown], "a stop outranks a restart")
        for id: Int32 in 1...6 {
            let now = 100 + Milliseconds(id) * 50
            XCTAssertEqual(policy.finished(id, reusable: true, restartNeeded: false, at: now), [.close(id, "c\(id)", farewell: true)],
                           "its next request is answered rejected, for the Apache child to send elsewhere")
            XCTAssertNil(policy.readable(id))
            XCTAssertEqual(exits(policy.tick(at: now)), id < 6 ? [] : [.shutdown])
        }
        XCTAssertEqual(policy.served, 6)
    }

    func testTheShutdownTimeoutBoundsABusyRequest() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 0)
        _ = policy.received([.stop], at: 1000)
        XCTAssertEqual(policy.tick(at: 5999), [])
        XCTAssertEqual(policy.tick(at: 6000), [.exit(reason: .shutdown, exitFunctionsWithin: 1)])
    }

    func testNoSignalAfterAStopMovesItsDeadline() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15, evictionTimeout: 2, shutdownTimeout: 5), now: 0)
        policy.run(1, at: 0)
        _ = policy.received([.stop], at: 1000)
        XCTAssertEqual(policy.received([.stop], at: 3000), [])
        XCTAssertEqual(policy.received([.restart], at: 3000), [])
        XCTAssertEqual(policy.tick(at: 5999), [])
        XCTAssertEqual(exits(policy.tick(at: 6000)), [.shutdown])
    }

    func testASIGTERMDuringARestartBringsItsDeadlineForward() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15, shutdownTimeout: 8), now: 0)
        policy.run(1, at: 0)
        _ = policy.received([.restart], at: 0)
        XCTAssertEqual(policy.received([.stop], at: 1000), [.alarm(seconds: 9)], "already stopping")
        XCTAssertEqual(policy.tick(at: 8999), [])
        XCTAssertEqual(policy.tick(at: 9000), [.exit(reason: .restart, exitFunctionsWithin: 1)])
    }

    func testASIGTERMDuringARestartKeepsASoonerDeadlineAndSharesTheRestWithTheExitFunctions() {
        var policy = Policy(limits: Limits(gracefulTimeout: 15, evictionTimeout: 2, shutdownTimeout: 8), now: 0)
        policy.run(1, at: 0)
        _ = policy.received([.restart], at: 0)
        _ = policy.received([.stop], at: 1000)
        XCTAssertEqual(policy.tick(at: 1999), [])
        XCTAssertEqual(policy.tick(at: 2000), [.exit(reason: .restart, exitFunctionsWithin: 7)])
    }

    func testAZeroShutdownTimeoutStillGivesOneSecond() {
        var policy = Policy(limits: Limits(shutdownTimeout: 0), now: 0)
        policy.run(1, at: 0)
        XCTAssertEqual(policy.received([.stop], at: 0), [.stopping(reason: .shutdown), .stopAccepting, .alarm(seconds: 2)])
        XCTAssertEqual(policy.tick(at: 999), [])
        XCTAssertEqual(exits(policy.tick(at: 1000)), [.shutdown])
    }
}

final class QueueTimeoutTests: XCTestCase {
    func testARequestThatWaitedLongerThanQueueTimeoutIsTurnedAway() {
        let limits = Limits(queueTimeout: 2)
        XCTAssertFalse(limits.queueTimeoutPassed(requestStart: 1_000_000, now: 3_000_000))
        XCTAssertTrue(limits.queueTimeoutPassed(requestStart: 1_000_000, now: 3_000_001))
        XCTAssertFalse(Limits().queueTimeoutPassed(requestStart: 0, now: .max / 2), "0: off")
    }
}
