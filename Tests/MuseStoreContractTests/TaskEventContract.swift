import Foundation
import MuseCore
import MuseWorkerProtocol
import Testing

/// Each change writes the event and the webhook delivery `TaskTransition` decided, with the change.
@Suite struct TaskEventContract {
    @Test(arguments: StoreKind.allCases) func everyVisibleChangeAppendsOneEventInOrder(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let t = Given.task()
        try await stores.tasks.insert(t)
        let attempt = try #require(try await Given.claim(stores).first)
        _ = try await stores.tasks.apply(.progress(0.5), attemptID: attempt.id)
        _ = try await stores.tasks.apply(.progress(0.5), attemptID: attempt.id)  // nothing a client sees changed: no event
        _ = try await stores.tasks.apply(.progress(0.7), attemptID: attempt.id)
        _ = try await stores.tasks.apply(.succeed(images: [Given.image()], timings: nil), attemptID: attempt.id)
        let events = try await stores.tasks.events(taskID: t.id, after: 0, limit: 100)
        #expect(events.map(\.type) == ["status", "status", "status", "progress", "succeeded"])
        #expect(events.map(\.task.status) == [.queued, .dispatched, .running, .running, .succeeded])
        #expect(events.map(\.task.progress) == [0, 0, 0.5, 0.7, 1])
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.seq < $1.seq })
        #expect(try await stores.tasks.events(taskID: t.id, after: events[2].seq, limit: 1).map(\.seq) == [events[3].seq], "resumes after a seq")
        #expect(try await stores.webhooks.deliveries(tenant: "acme", taskID: t.id, limit: 10, before: nil).isEmpty, "no webhook_url, no delivery")
    }

    @Test(arguments: StoreKind.allCases) func aFinalStateWithAWebhookMakesExactlyOneDelivery(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let url = "https://hooks.example.com/muse"
        let succeeded = Given.task(webhookURL: url, createdAt: Date().addingTimeInterval(-1))
        let canceled = Given.task(webhookURL: url)
        for t in [succeeded, canceled] { try await stores.tasks.insert(t) }
        let attempt = try #require(try await Given.claim(stores).first)
        #expect(attempt.task.id == succeeded.id)
        _ = try await stores.tasks.apply(.succeed(images: [Given.image()], timings: nil), attemptID: attempt.id)
        _ = try await stores.tasks.apply(.succeed(images: [Given.image()], timings: nil), attemptID: attempt.id)  // a repeat
        _ = try await stores.tasks.apply(.cancel, taskID: canceled.id, tenant: "acme")
        _ = try await stores.tasks.apply(.cancel, taskID: canceled.id, tenant: "acme")
        for t in [succeeded, canceled] {
            let deliveries = try await stores.webhooks.deliveries(tenant: "acme", taskID: t.id, limit: 10, before: nil)
            #expect(deliveries.count == 1)
            #expect(deliveries.first?.url == url && deliveries.first?.status == .pending && deliveries.first?.tries == 0)
        }
        #expect(try await stores.webhooks.due(now: Date().addingTimeInterval(1), limit: 10).count == 2, "due at once")
        #expect(try await stores.webhooks.deliveries(tenant: "other", taskID: nil, limit: 10, before: nil).isEmpty)
    }
}
