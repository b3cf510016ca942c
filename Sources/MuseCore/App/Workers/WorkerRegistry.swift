import Foundation
import MuseWorkerProtocol
import Synchronization

/// The live workers as the server knows them, with their free slots. Kept in memory: a
/// restarted server learns its workers again within one heartbeat (a heartbeat it does not
/// know answers 404 and the worker registers at once).
public final class WorkerRegistry: Sendable {
    public struct Worker: Sendable {
        public var registration: WorkerRegistration
        /// The abilities it announced that this server knows (others are ignored, for newer workers).
        public var abilities: Set<Ability>
        public var busy: Double
        public var modelsLoaded: [String]
        public var lastSeen: Date
        /// Attempts sent to it and not yet finished, keyed by attempt id (so a repeated result
        /// frees a slot once).
        public var inFlight: [String: InFlight]
        /// Slots taken by a dispatch round that has not yet bound them to an attempt.
        public var reserved: Int
        /// The worker answered 429 (full): no dispatch to it before this time.
        public var fullUntil: Date?
        /// The attempts its latest heartbeat listed as running (generation and training alike).
        public var reported: Set<String> = []

        /// Each slot holds one running unit (a job or a batch) and `prefetch` more waiting on the
        /// worker, so a worker never idles for the round trip between finishing a job and receiving the next.
        var freeSlots: Int { registration.slots * (1 + WorkerRegistry.prefetch) - Set(inFlight.values.map(\.unit)).count - reserved }
    }

    /// One attempt on a worker: the batch it went in (its first attempt's id) and when the
    /// server last heard of it (dispatch, progress), which decides when to poll the worker.
    public struct InFlight: Sendable {
        public var unit: String
        public var lastNews: Date
    }

    /// Jobs queued on a worker per slot beyond the running one.
    static let prefetch = 1

    private let workers = Mutex<[String: Worker]>([:])
    /// A worker silent for this long is lost (3 missed heartbeats of 2 s).
    public let lostAfter: TimeInterval

    public init(lostAfter: TimeInterval = 6) {
        self.lostAfter = lostAfter
    }

    public func register(_ registration: WorkerRegistration) {
        workers.withLock {
            $0[registration.workerID] = Worker(
                registration: registration, abilities: Set(registration.abilities.compactMap(Ability.init(rawValue:))), busy: 0,
                modelsLoaded: registration.modelsLoaded, lastSeen: Date(), inFlight: [:], reserved: 0
            )
        }
    }

    /// How long an attempt may go unreported in heartbeats' `running` before it is looked up on
    /// its worker: a job queued behind others there, or one whose result is on its way, is not yet.
    static let unreportedAfter: TimeInterval = 3

    /// Records a heartbeat; false for a worker this server does not know. Attempts the worker
    /// does not report as running are marked to be looked up on it at the next sweep.
    public func heartbeat(_ id: String, _ beat: WorkerHeartbeat, now: Date = Date()) -> Bool {
        workers.withLock { workers in
            guard var worker = workers[id] else { return false }
            worker.busy = beat.busy
            worker.modelsLoaded = beat.modelsLoaded
            worker.lastSeen = now
            worker.fullUntil = nil  // heard from: a back-off for being unreachable or full ends
            let running = Set(beat.running)
            worker.reported = running
            for (attemptID, flight) in worker.inFlight where !running.contains(attemptID) && now.timeIntervalSince(flight.lastNews) > Self.unreportedAfter {
                worker.inFlight[attemptID]?.lastNews = .distantPast
            }
            workers[id] = worker
            return true
        }
    }

    /// Attempts the store says a (re-)registered worker holds: tracked again, and looked up on it
    /// at the next sweep (one it does not know is queued again).
    public func adopt(_ id: String, attemptIDs: [String]) {
        workers.withLock { workers in
            guard var worker = workers[id] else { return }
            for attemptID in attemptIDs where worker.inFlight[attemptID] == nil {
                worker.inFlight[attemptID] = InFlight(unit: attemptID, lastNews: .distantPast)
            }
            workers[id] = worker
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

    /// Takes a free slot of the live worker, not in `excluding`, with one of the abilities and
    /// the lowest busy ratio. The caller then `bind`s it to an attempt, or `unreserve`s it.
    public func reserve(anyOf abilities: Set<Ability>, excluding: Set<String> = [], now: Date = Date()) -> Worker? {
        workers.withLock { workers in
            let candidates = workers.values.filter {
                now.timeIntervalSince($0.lastSeen) < lostAfter && !abilities.isDisjoint(with: $0.abilities) && $0.freeSlots > 0
                    && !excluding.contains($0.registration.workerID)
                    && ($0.fullUntil.map { now >= $0 } ?? true)
            }
            guard var best = candidates.min(by: { ($0.busy, $0.inFlight.count) < ($1.busy, $1.inFlight.count) }) else { return nil }
            best.reserved += 1
            workers[best.registration.workerID] = best
            return best
        }
    }

    /// Binds a reserved slot to the attempts sent in one call (one job, or a batch).
    public func bind(_ id: String, attemptIDs: [String], now: Date = Date()) {
        workers.withLock { workers in
            guard var worker = workers[id], let unit = attemptIDs.first else { return }
            worker.reserved = max(0, worker.reserved - 1)
            for attemptID in attemptIDs { worker.inFlight[attemptID] = InFlight(unit: unit, lastNews: now) }
            workers[id] = worker
        }
    }

    /// The worker said it is full: skip it for `seconds`.
    public func backOff(_ id: String, seconds: TimeInterval, now: Date = Date()) {
        workers.withLock { workers in workers[id]?.fullUntil = now.addingTimeInterval(seconds) }
    }

    /// News of an attempt (progress, a poll): it is alive, no need to poll it for a while.
    public func touch(_ id: String, attemptID: String, now: Date = Date()) {
        workers.withLock { workers in workers[id]?.inFlight[attemptID]?.lastNews = now }
    }

    /// Attempts on live workers the server has not heard of since `before`: to be polled.
    public func silentAttempts(since before: Date) -> [(attemptID: String, worker: Worker)] {
        workers.withLock { workers in
            workers.values.flatMap { worker in
                worker.inFlight.filter { $0.value.lastNews < before }.map { (attemptID: $0.key, worker: worker) }
            }
        }
    }

    public func unreserve(_ id: String) {
        workers.withLock { workers in
            guard var worker = workers[id] else { return }
            worker.reserved = max(0, worker.reserved - 1)
            workers[id] = worker
        }
    }

    /// The attempt is over on that worker; repeating this is harmless.
    public func release(_ id: String, attemptID: String) {
        workers.withLock { workers in
            guard var worker = workers[id] else { return }
            worker.inFlight[attemptID] = nil
            workers[id] = worker
        }
    }

    /// Drops an attempt from whichever worker holds it; returns that worker.
    public func forget(attemptID: String) -> Worker? {
        workers.withLock { workers in
            guard var worker = workers.values.first(where: { $0.inFlight[attemptID] != nil }) else { return nil }
            worker.inFlight[attemptID] = nil
            workers[worker.registration.workerID] = worker
            return worker
        }
    }

    /// A job for `model` went to the worker: until its next heartbeat says otherwise, treat the model as loaded there.
    public func assumeLoaded(_ id: String, model: String) {
        workers.withLock { workers in
            guard var worker = workers[id], !worker.modelsLoaded.contains(model) else { return }
            worker.modelsLoaded = [model]
            workers[id] = worker
        }
    }

    /// Models loaded on live workers.
    public func modelsLoaded(now: Date = Date()) -> Set<String> {
        workers.withLock { workers in
            Set(workers.values.filter { now.timeIntervalSince($0.lastSeen) < lostAfter }.flatMap(\.modelsLoaded))
        }
    }

    /// Free slots of live workers with the ability.
    public func freeSlots(ability: Ability, now: Date = Date()) -> Int {
        workers.withLock { workers in
            workers.values.filter { now.timeIntervalSince($0.lastSeen) < lostAfter && $0.abilities.contains(ability) }
                .reduce(0) { $0 + max(0, $1.freeSlots) }
        }
    }

    /// Running slots of live workers with the ability, and the attempts they hold.
    public func load(ability: Ability, now: Date = Date()) -> (slots: Int, inFlight: Int) {
        workers.withLock { workers in
            workers.values.filter { now.timeIntervalSince($0.lastSeen) < lostAfter && $0.abilities.contains(ability) }
                .reduce((0, 0)) { ($0.0 + $1.registration.slots, $0.1 + $1.inFlight.count) }
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
