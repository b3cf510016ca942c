import Synchronization

/// The streaming uploads in flight across all connections, up to a limit: each holds a file
/// being written and a few reads of memory, so past the limit a new one is answered 503 with
/// `Retry-After` on its head, before any of its body is read.
final class StreamingBodies: Sendable {
    private let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place; false when all are taken.
    func take() -> Bool {
        while true {
            let now = count.load(ordering: .relaxed)
            guard now < limit else { return false }
            if count.compareExchange(expected: now, desired: now + 1, ordering: .acquiringAndReleasing).exchanged { return true }
        }
    }

    func give() {
        count.subtract(1, ordering: .relaxed)
    }

    var inFlight: Int { count.load(ordering: .relaxed) }
}
