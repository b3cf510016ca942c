import Foundation
import MuseHTTP

/// Follows one task's event log for `/events`: what was missed since `Last-Event-ID` first,
/// then each new event as the notifier announces it, with a keep-alive tick in between; ends
/// after the final event.
public struct TaskEventFeed: Sendable {
    public enum Item: Sendable {
        case event(TaskEvent)
        /// Nothing happened for a while: say so, so proxies keep the connection.
        case keepAlive
    }

    let generations: GenerationService
    let events: any TaskEventStore
    let notifier: any TaskEventNotifier
    let keepAlive: Duration

    public init(generations: GenerationService, events: any TaskEventStore, notifier: any TaskEventNotifier, keepAlive: Duration = .seconds(15)) {
        self.generations = generations
        self.events = events
        self.notifier = notifier
        self.keepAlive = keepAlive
    }

    /// The task's events after `seq`; 404 (thrown here, before any byte is sent) for another tenant's task.
    public func follow(id: String, tenant: String, after seq: Int64) async throws -> AsyncThrowingStream<Item, any Error> {
        _ = try await generations.task(id: id, tenant: tenant)
        // Subscribed before the first read, so no event falls between the read and the wait.
        let announced = notifier.subscribe(taskID: id)
        let (wakes, wake) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        let (items, output) = AsyncThrowingStream.makeStream(of: Item.self)
        let listener = Task {
            for await _ in announced { wake.yield(false) }
        }
        let ticker = Task { [keepAlive] in
            while !Task.isCancelled {
                try? await Task.sleep(for: keepAlive)
                wake.yield(true)
            }
        }
        let producer = Task { [events] in
            var last = seq
            var pendingTick = false
            var iterator = wakes.makeAsyncIterator()
            do {
                while !Task.isCancelled {
                    let batch = try await events.events(taskID: id, after: last, limit: 100)
                    for event in batch {
                        output.yield(.event(event))
                        last = event.seq
                        if event.isFinal {
                            output.finish()
                            return
                        }
                    }
                    if batch.count == 100 { continue }
                    if batch.isEmpty, try await generations.task(id: id, tenant: tenant).task.status.isFinal {
                        output.finish()  // resumed after the final event: nothing more will come
                        return
                    }
                    if pendingTick { output.yield(.keepAlive) }
                    guard let tick = await iterator.next() else { break }
                    pendingTick = tick
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
        }
        return items
    }
}
