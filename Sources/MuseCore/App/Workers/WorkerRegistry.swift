import Foundation
import Synchronization

/// The live workers as the server knows them, with their free slots. Kept in memory: a
/// restarted server learns its workers again within one heartbeat (a heartbeat it does not
/// know answers 404 and the worker registers at once).
public final class WorkerRegistry: Sendable {
    public struct Worker: Sendable {
        public var registration: WorkerRegistration
        public var busy: Double
        public var modelsLoaded: [String]
        public var lastSeen: Date
        /// Attempts sent to it and not yet finished.
        public var inFlight: Int
    }

    private let workers = Mutex<[String: Worker]>([:])
    /// A worker silent for this long is lost (3 missed heartbeats of 2 s).
    public let lostAfter: TimeInterval

    public init(lostAfter: TimeInterval = 6) {
        self.lostAfter = lostAfter
    }

    public func register(_ registration: WorkerRegistration) {
        workers.withLock {
            $0[registration.workerID] = Worker(registration: registration, busy: 0, modelsLoaded: registration.modelsLoaded, lastSeen: Date(), inFlight: 0)
        }
    }

    /// Records a heartbeat; false for a worker this server does not know.
    public func heartbeat(_ id: String, _ beat: WorkerHeartbeat) -> Bool {
        workers.withLock { workers in
            guard var worker = workers[id] else { return false }
            worker.busy = beat.busy
            worker.modelsLoaded = beat.modelsLoaded
            worker.lastSeen = Date()
            workers[id] = worker
            return true
        }
    }

    public func remove(_ id: String) {
        _ = workers.withLock { $0.removeValue(forKey: id) }
    }

    public func worker(_ id: String) -> Worker? {
        workers.withLock { $0[id] }
    }

    public var all: [Worker] {
        workers.withLock { Array($0.values) }
    }

    /// Takes a free slot of the best live worker with the ability: one with a preferred model
    /// loaded first, then the lowest busy ratio. The caller gives the slot back with `release`.
    public func reserve(ability: String, now: Date = Date()) -> Worker? {
        workers.withLock { workers in
            let candidates = workers.values.filter {
                now.timeIntervalSince($0.lastSeen) < lostAfter && $0.registration.abilities.contains(ability)
                    && $0.inFlight < $0.registration.slots
            }
            guard var best = candidates.min(by: { ($0.busy, $0.inFlight) < ($1.busy, $1.inFlight) }) else { return nil }
            best.inFlight += 1
            workers[best.registration.workerID] = best
            return best
        }
    }

    public func release(_ id: String) {
        workers.withLock { workers in
            if var worker = workers[id], worker.inFlight > 0 {
                worker.inFlight -= 1
                workers[id] = worker
            }
        }
    }

    /// Workers silent past `lostAfter`, removed from the registry.
    public func removeLost(now: Date = Date()) -> [String] {
        workers.withLock { workers in
            let lost = workers.values.filter { now.timeIntervalSince($0.lastSeen) >= lostAfter }.map(\.registration.workerID)
            for id in lost { workers[id] = nil }
            return lost
        }
    }
}
