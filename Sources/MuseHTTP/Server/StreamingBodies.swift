import Synchronization

/// The streaming uploads in flight, in all and per caller (the principal the route's checks
/// found): each holds a file being written and a few reads of memory, so past either limit a new
/// one is answered 503 with `Retry-After` on its head, before any of its body is read. The
/// per-caller share keeps one caller from taking every place (the workers' uploads included).
final class StreamingBodies: Sendable {
    private struct Counts {
        var total = 0
        var byCaller: [String: Int] = [:]
    }

    private let limit: Int
    private let perCaller: Int
    private let counts = Mutex(Counts())

    init(limit: Int, perCaller: Int) {
        self.limit = limit
        self.perCaller = perCaller
    }

    /// Takes a place for `caller` (nil: an unauthenticated route, counted under one name); false
    /// when all places, or all of the caller's, are taken.
    func take(caller: String?) -> Bool {
        let key = caller ?? ""
        return counts.withLock { counts in
            guard counts.total < limit, counts.byCaller[key, default: 0] < perCaller else { return false }
            counts.total += 1
            counts.byCaller[key, default: 0] += 1
            return true
        }
    }

    func give(caller: String?) {
        let key = caller ?? ""
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.byCaller[key, default: 1] - 1
            counts.byCaller[key] = left > 0 ? left : nil
        }
    }

    var inFlight: Int { counts.withLock { $0.total } }
}
