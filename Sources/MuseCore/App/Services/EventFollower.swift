import Foundation

/// The stream under every `/events` route: what was missed after a sequence number first, then
/// each new event as the notifier announces it, a keep-alive tick in between; it ends after a
/// final event, or after `maxLifetime` (the client reconnects with `Last-Event-ID`).
public enum EventFollower {
    public enum Item<Event: Sendable>: Sendable {
        case event(Event)
        case keepAlive
    }

    private enum Wake { case announced, tick, expired }

    /// `read` gives the events after a sequence number (up to 100, oldest first). `onEnd` runs
    /// once when the consumer stops or the stream ends.
    public static func follow<Event: Sendable>(
        id: String, notifier: any TaskEventNotifier, settings: TaskEventFeed.Settings, alreadyFinal: Bool,
        read: @escaping @Sendable (Int64) async throws -> [Event], seq: @escaping @Sendable (Event) -> Int64,
        isFinal: @escaping @Sendable (Event) -> Bool, after start: Int64 = 0, onEnd: @escaping @Sendable () -> Void
    ) -> AsyncThrowingStream<Item<Event>, any Error> {
        // Subscribed before the first read, so no event falls between the read and the wait.
        let announced = notifier.subscribe(taskID: id)
        let (wakes, wake) = AsyncStream.makeStream(of: Wake.self, bufferingPolicy: .bufferingNewest(1))
        let (items, output) = AsyncThrowingStream.makeStream(of: Item<Event>.self)
        let listener = Task {
            for await _ in announced { wake.yield(.announced) }
        }
        let ticker = Task {
            let deadline = ContinuousClock.now + settings.maxLifetime
            while !Task.isCancelled {
                let next = min(ContinuousClock.now + settings.keepAlive, deadline)
                try? await Task.sleep(until: next)
                wake.yield(ContinuousClock.now >= deadline ? .expired : .tick)
            }
        }
        let producer = Task {
            var last = start
            var first = true
            var iterator = wakes.makeAsyncIterator()
            do {
                read: while !Task.isCancelled {
                    let batch = try await read(last)
                    for event in batch {
                        output.yield(.event(event))
                        last = seq(event)
                        if isFinal(event) { break read }
                    }
                    if batch.count == 100 { continue }
                    // Resumed after the final event: nothing more will come.
                    if first, batch.isEmpty, alreadyFinal { break }
                    first = false
                    // A keep-alive reads nothing: only an announced event is worth a query.
                    wait: while true {
                        switch await iterator.next() {
                        case .announced: break wait
                        case .tick: output.yield(.keepAlive)
                        case .expired, nil: break read
                        }
                    }
                }
                output.finish()
            } catch {
                output.finish(throwing: error)
            }
        }
        output.onTermination = { _ in
            producer.cancel()
            listener.cancel()
            ticker.cancel()
            onEnd()
        }
        return items
    }
}
