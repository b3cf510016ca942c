/// Asks the scheduler's loop for a dispatch round. Rounds do not pile up: many pulls before a
/// round runs make one round.
struct DispatchTrigger: Sendable {
    let rounds: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (rounds, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func pull() {
        continuation.yield()
    }

    /// An attempt is over on its worker (or never started there): its slot is free for the next round.
    func slotFreed(_ registry: WorkerRegistry, workerID: String, attemptID: String) {
        registry.release(workerID, attemptID: attemptID)
        pull()
    }
}
