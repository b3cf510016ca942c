import Foundation
import MuseCore
import MuseWorkerProtocol
import Testing

/// `TaskStore`: tasks belong to their tenant, pages are stable, a transition happens once.
@Suite struct TaskStoreContract {
    @Test(arguments: StoreKind.allCases) func aTaskRoundTripsAndBelongsToItsTenant(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let original = Given.task()
        try await stores.tasks.insert(original)
        let read = try await stores.tasks.task(id: original.id, tenant: "acme")
        #expect(read?.params == original.params)
        #expect(read?.status == .queued && read?.attempts == 0 && read?.attemptID == nil)
        #expect(try await stores.tasks.task(id: original.id, tenant: "other") == nil)
        #expect(try await stores.tasks.list(tenant: "other", status: nil, limit: 10, before: nil).isEmpty)
        #expect(try await stores.tasks.apply(.cancel, taskID: original.id, tenant: "other") == nil, "another tenant cannot cancel it")
    }

    @Test(arguments: StoreKind.allCases) func pagesAreNewestFirstAndStableWhileTasksAreInserted(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        var ids: [String] = []
        for i in 0..<25 {
            let t = Given.task(prompt: "p\(i)")
            ids.append(t.id)
            try await stores.tasks.insert(t)
            try await Task.sleep(for: .milliseconds(1))
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await stores.tasks.list(tenant: "acme", status: nil, limit: 10, before: cursor)
            seen += page.map(\.id)
            cursor = page.count == 10 ? page.last?.id : nil
            // Newer tasks arrive between pages: they must not shift or repeat what follows.
            try await stores.tasks.insert(Given.task())
        } while cursor != nil
        #expect(seen == ids.reversed())
        _ = try await stores.tasks.apply(.cancel, taskID: ids[3], tenant: "acme")
        #expect(try await stores.tasks.list(tenant: "acme", status: .canceled, limit: 10, before: nil).map(\.id) == [ids[3]])
    }

    @Test(arguments: StoreKind.allCases) func aCancelHappensExactlyOnceUnderConcurrency(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let t = Given.task()
        try await stores.tasks.insert(t)
        let tasks = stores.tasks
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { try await tasks.apply(.cancel, taskID: t.id, tenant: "acme") != nil }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        let canceled = try await stores.tasks.task(id: t.id, tenant: "acme")
        #expect(canceled?.status == .canceled && canceled?.finishedAt != nil)
        #expect(try await stores.tasks.apply(.release, taskID: t.id, tenant: "acme") == nil, "final stays final")
        #expect(try await stores.tasks.events(taskID: t.id, after: 0, limit: 10).map(\.type) == ["status", "canceled"], "one event for the one win")
    }

    @Test(arguments: StoreKind.allCases) func queuePositionPutsOnlineAheadOfOffline(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let offline = Given.task(priority: .offline)
        try await stores.tasks.insert(offline)
        try await Task.sleep(for: .milliseconds(2))
        let online = Given.task()
        #expect(try await stores.tasks.insert(online) == 0, "insert answers the position at commit")
        #expect(try await stores.tasks.tasksAhead(of: [online, offline]) == [online.id: 0, offline.id: 1])
        let later = Given.task(schedule: .offpeak)
        #expect(try await stores.tasks.insert(later) == nil, "a scheduled task has no queue position")
    }

    @Test(arguments: StoreKind.allCases) func anIdempotencyKeyIsClaimedOnceAndCompletedByTheInsert(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let keys = stores.idempotency
        let now = Date()
        let claims = try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await keys.claim(
                        tenant: "acme", key: "k1", bodyHash: "h", now: now, expiredBefore: now.addingTimeInterval(-60),
                        abandonedBefore: now.addingTimeInterval(-60))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(claims.filter { $0 == .claimed }.count == 1 && claims.filter { $0 == .inProgress }.count == 9)
        let t = Given.task()
        try await stores.tasks.insert(t, idempotencyKey: "k1")
        func claim(_ tenant: String, _ hash: String) async throws -> IdempotencyClaim {
            try await keys.claim(
                tenant: tenant, key: "k1", bodyHash: hash, now: now, expiredBefore: now.addingTimeInterval(-60), abandonedBefore: now.addingTimeInterval(-60))
        }
        #expect(try await claim("acme", "h") == .done(taskID: t.id))
        #expect(try await claim("acme", "other body") == .mismatch)
        #expect(try await claim("globex", "h") == .claimed, "keys are per tenant")
        try await keys.release(tenant: "globex", key: "k1")
        #expect(try await claim("globex", "h") == .claimed, "a released key can be claimed again")
        #expect(try await keys.purge(before: now.addingTimeInterval(1)) == 2)
    }
}
