import Foundation
import MuseJSON
import Synchronization

/// Follows one task's event log for `/events`: what was missed since `Last-Event-ID` first,
/// then each new event as the notifier announces it, with a keep-alive tick in between; ends
/// after the final event, or after `maxLifetime` (the client reconnects with `Last-Event-ID`).
/// A tenant holds at most `maxPerTenant` streams at once.
public struct TaskEventFeed: Sendable {
    public typealias Item = EventFollower.Item<TaskEvent>

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
        let events = events
        return EventFollower.follow(
            id: id, notifier: notifier, settings: settings, alreadyFinal: view.task.status.isFinal,
            read: { after in try await events.events(taskID: id, after: after, limit: 100) }, seq: \.seq, isFinal: \.isFinal, after: seq,
            onEnd: { [open] in open.give(tenant) }
        )
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
