import Foundation
import MuseJSON
import Synchronization

/// Follows one task's event log for `/events`: what was missed since `Last-Event-ID` first,
/// then each new event as the notifier announces it, with a keep-alive tick in between; ends
/// after the final event, or after `maxLifetime` (the client reconnects with `Last-Event-ID`).
/// A tenant holds at most `maxPerTenant` streams at once.
public struct TaskEventFeed: Sendable {
    public enum Item: Sendable {
        case event(TaskEvent)
        /// Nothing happened for a while: say so, so proxies keep the connection.
        case keepAlive
    }

    /// The limits of `/events` streams (`events.*`).
    public struct Settings: Sendable {
        public var keepAlive: Duration = .seconds(15)
        public var maxLifetime: Duration = .seconds(1800)
        public var maxPerTenant = 16
        /// A client that stops reading is dropped when one write waits this long.
        public var writeTimeout: Duration = .seconds(30)

        public init(keepAlive: Duration = .seconds(15), maxLifetime: Duration = .seconds(1800), maxPerTenant: Int = 16, writeTimeout: Duration = .seconds(30)) {
            self.keepAlive = keepAlive
            self.maxLifetime = maxLifetime
            self.maxPerTenant = maxPerTenant
            self.writeTimeout = writeTimeout
        }
    }

    private enum Wake { case announced, tick, expired }

    let generations: GenerationService
    let events: any TaskEventStore
    let notifier: any TaskEventNotifier
    public let settings: Settings
    private let open = OpenStreams()

    public init(generations: GenerationService, events: any TaskEventStore, notifier: any TaskEventNotifier, settings: Settings = Settings()) {
        self.generations = generations
        self.events = events
        self.notifier = notifier
        self.settings = settings
    }

    /// The task's events after `seq`; 404 (thrown here, before any byte is sent) for another
    /// tenant's task, 429 past the tenant's stream cap.
    public func follow(id: String, tenant: String, after seq: Int64) async throws -> AsyncThrowingStream<Item, any Error> {
        let view = try await generations.task(id: id, tenant: tenant)
        guard open.take(tenant, max: settings.maxPerTenant) else {
            throw ServiceError.rateLimited("at most \(settings.maxPerTenant) event streams at once per tenant", retryAfterSeconds: 5)
        }
        // Subscribed before the first read, so no event falls between the read and the wait.
        let announced = notifier.subscribe(taskID: id)
        let (wakes, wake) = AsyncStream.makeStream(of: Wake.self, bufferingPolicy: .bufferingNewest(1))
        let (items, output) = AsyncThrowingStream.makeStream(of: Item.self)
        let listener = Task {
            for await _ in announced { wake.yield(.announced) }
        }
        let ticker = Task { [settings] in
            let deadline = ContinuousClock.now + settings.maxLifetime
            while !Task.isCancelled {
                let next = min(ContinuousClock.now + settings.keepAlive, deadline)
                try? await Task.sleep(until: next)
                wake.yield(ContinuousClock.now >= deadline ? .expired : .tick)
            }
        }
        let producer = Task { [events] in
            var last = seq
            var first = true
            var iterator = wakes.makeAsyncIterator()
            do {
                read: while !Task.isCancelled {
                    let batch = try await events.events(taskID: id, after: last, limit: 100)
                    for event in batch {
                        output.yield(.event(event))
                        last = event.seq
                        if event.isFinal { break read }
                    }
                    if batch.count == 100 { continue }
                    // Resumed after the final event: nothing more will come.
                    if first, batch.isEmpty, view.task.status.isFinal { break }
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
        output.onTermination = { [open] _ in
            producer.cancel()
            listener.cancel()
            ticker.cancel()
            open.give(tenant)
        }
        return items
    }
}

/// Open `/events` streams per tenant.
final class OpenStreams: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func take(_ tenant: String, max: Int) -> Bool {
        counts.withLock { counts in
            guard counts[tenant, default: 0] < max else { return false }
            counts[tenant, default: 0] += 1
            return true
        }
    }

    func give(_ tenant: String) {
        counts.withLock { counts in
            let left = counts[tenant, default: 1] - 1
            counts[tenant] = left > 0 ? left : nil
        }
    }
}
