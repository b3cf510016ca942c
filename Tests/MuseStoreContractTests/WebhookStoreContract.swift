import Foundation
import MuseCore
import Testing

/// `WebhookStore`: secrets, one dispatcher per try, tries recorded, redelivery once.
@Suite struct WebhookStoreContract {
    /// A task with a webhook, canceled: one pending delivery.
    func delivery(_ stores: StoresUnderTest) async throws -> WebhookDelivery {
        let t = Given.task(webhookURL: "https://hooks.example.com/x")
        try await stores.tasks.insert(t)
        _ = try await stores.tasks.apply(.cancel, taskID: t.id, tenant: "acme")
        return try #require(try await stores.webhooks.deliveries(tenant: "acme", taskID: t.id, limit: 1, before: nil).first)
    }

    @Test(arguments: StoreKind.allCases) func aSecretIsCreatedOnceThenOnlyReplaced(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        #expect(try await stores.webhooks.secret(tenant: "acme", orCreate: "s1") == "s1")
        #expect(try await stores.webhooks.secret(tenant: "acme", orCreate: "s2") == "s1")
        try await stores.webhooks.replaceSecret(tenant: "acme", with: "s3")
        #expect(try await stores.webhooks.secret(tenant: "acme", orCreate: "s4") == "s3")
        #expect(try await stores.webhooks.secret(tenant: "globex", orCreate: "g1") == "g1")
    }

    @Test(arguments: StoreKind.allCases) func aDueDeliveryIsTriedByOneDispatcherAndItsTriesAreKept(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let d = try await delivery(stores)
        let now = Date().addingTimeInterval(1)
        let webhooks = stores.webhooks
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { try await webhooks.lease(id: d.id, now: now, until: now.addingTimeInterval(30)) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await stores.webhooks.due(now: now, limit: 10).isEmpty, "leased: not due until the lease ends")
        let failure = WebhookAttempt(at: now, statusCode: 500, latencyMs: 12, error: nil)
        try await stores.webhooks.record(deliveryID: d.id, attempt: failure, status: .pending, next: now.addingTimeInterval(5))
        let success = WebhookAttempt(at: now.addingTimeInterval(5), statusCode: 204, latencyMs: 8, error: nil)
        try await stores.webhooks.record(deliveryID: d.id, attempt: success, status: .succeeded, next: nil)
        let read = try await stores.webhooks.delivery(id: d.id, tenant: "acme")
        #expect(read?.status == .succeeded && read?.tries == 2 && read?.nextAttemptAt == nil)
        let page = try #require(try await stores.webhooks.attempts(deliveryID: d.id, tenant: "acme", limit: 1, before: nil))
        #expect(page.map(\.attempt.statusCode) == [204], "newest first")
        let rest = try await stores.webhooks.attempts(deliveryID: d.id, tenant: "acme", limit: 10, before: page.last?.position)
        #expect(rest?.map(\.attempt.statusCode) == [500])
        #expect(try await stores.webhooks.attempts(deliveryID: d.id, tenant: "globex", limit: 10, before: nil) == nil)
        #expect(try await stores.webhooks.delivery(id: d.id, tenant: "globex") == nil)
    }

    @Test(arguments: StoreKind.allCases) func aFinishedDeliveryIsRedeliveredOnceAndOnlyByItsTenant(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let d = try await delivery(stores)
        #expect(try await stores.webhooks.redeliver(id: d.id, tenant: "acme", now: Date()) == nil, "still pending")
        try await stores.webhooks.record(
            deliveryID: d.id, attempt: WebhookAttempt(at: Date(), statusCode: 410, latencyMs: 1, error: nil), status: .stopped, next: nil)
        #expect(try await stores.webhooks.redeliver(id: d.id, tenant: "globex", now: Date()) == nil)
        let webhooks = stores.webhooks
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { try await webhooks.redeliver(id: d.id, tenant: "acme", now: Date()) != nil } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await stores.webhooks.delivery(id: d.id, tenant: "acme")?.status == .pending)
    }

    @Test(arguments: StoreKind.allCases) func aPostponedDeliveryLeavesTheHeadOfTheQueue(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let d = try await delivery(stores)
        let now = Date().addingTimeInterval(1)
        try await stores.webhooks.postpone(ids: [d.id], until: now.addingTimeInterval(60))
        #expect(try await stores.webhooks.due(now: now, limit: 10).isEmpty)
        #expect(try await stores.webhooks.due(now: now.addingTimeInterval(61), limit: 10).map(\.id) == [d.id])
    }
}
