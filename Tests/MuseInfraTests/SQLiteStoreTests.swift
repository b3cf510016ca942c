import Foundation
import MuseHTTP
import MuseWorkerProtocol
import NIOPosix
import Testing

@testable import MuseCore
@testable import MuseInfra
@testable import MuseServer

/// The SQLite stores against a real database file.
@Suite struct SQLiteStoreTests {
    let stores: EmbeddedStores

    init() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-store-\(UUID().uuidString)").path
        stores = try await EmbeddedStores.open(dataDir: dir, pool: BlockingPool(pool: .singleton))
    }

    func task(_ tenant: String = "acme", prompt: String = "fox", model: String = "sd15-base", width: Int = 512, createdAt: Date = Date()) -> GenerationTask {
        let params = GenerationParams(
            model: model, prompt: prompt, negativePrompt: "", width: width, height: 512, steps: 20, guidanceScale: 7,
            sampler: .eulerA, seed: 1, numImages: 1, loras: [], initImage: nil, strength: 0.75, priority: .online,
            schedule: .now, webhookURL: nil, metadata: .object([("k", .string("v"))])
        )
        return GenerationTask(id: IDGenerator.make("gen", at: createdAt), tenant: tenant, params: params, createdAt: createdAt)
    }

    func claim(preferring models: [String], loadedAnywhere: Set<String> = [], limit: Int = 1) async throws -> [Attempt] {
        try await stores.tasks.claimNext(
            workerID: "w-1", abilities: Ability.generation, preferredModels: models, loadedAnywhere: loadedAnywhere, agedBefore: Date().addingTimeInterval(-10),
            leaseUntil: Date().addingTimeInterval(60), limit: limit
        )
    }

    @Test func aClaimPrefersALoadedModelButNeverStarvesAnUnloadedOne() async throws {
        let old = Date().addingTimeInterval(-60)
        let agedXL = task(prompt: "aged, nobody has sdxl", model: "sdxl-base", createdAt: old)
        let agedAnime = task(prompt: "aged, but another worker has anime", model: "sd15-anime", createdAt: old.addingTimeInterval(1))
        let fresh = task(prompt: "fresh sd15")
        for t in [agedXL, agedAnime, fresh] { try await stores.tasks.insert(t) }
        // sdxl is loaded nowhere and waited past the limit: it goes first, whatever this worker has.
        #expect(try await claim(preferring: ["sd15-base"], loadedAnywhere: ["sd15-base", "sd15-anime"]).map(\.task.id) == [agedXL.id])
        // The aged anime task has a worker with its model: this sd15-base worker keeps its own model.
        #expect(try await claim(preferring: ["sd15-base"], loadedAnywhere: ["sd15-base", "sd15-anime"]).map(\.task.id) == [fresh.id])
        #expect(try await claim(preferring: ["sd15-base"], loadedAnywhere: ["sd15-base", "sd15-anime"]).map(\.task.id) == [agedAnime.id])
        #expect(try await claim(preferring: ["sd15-base"]).isEmpty)
    }

    @Test func aBatchClaimTakesOnlySameShapedTasks() async throws {
        // Ids order by creation time (milliseconds): space them out.
        let head = task(prompt: "a", createdAt: Date().addingTimeInterval(-3))
        let other = task(prompt: "another size", width: 768, createdAt: Date().addingTimeInterval(-2))
        let same = task(prompt: "b", createdAt: Date().addingTimeInterval(-1))
        for t in [head, other, same] { try await stores.tasks.insert(t) }
        let batch = try await claim(preferring: [], limit: 4)
        #expect(batch.map(\.task.id) == [head.id, same.id])
        #expect(Set(batch.map(\.id)).count == 2, "one attempt per task")
        // A worker that was full gives them back without spending an attempt.
        try await stores.tasks.unclaim(attemptIDs: batch.map(\.id))
        let again = try await claim(preferring: [], limit: 4)
        #expect(again.map(\.task.id) == [head.id, same.id])
        #expect(again.map(\.task.attempts) == [1, 1])
    }

    @Test func migrationsRunOnceAndAreRecorded() async throws {
        #expect(try await stores.database.migrate() == [])
    }

    @Test func aTaskRoundTripsAndBelongsToItsTenant() async throws {
        let original = task()
        try await stores.tasks.insert(original)
        let read = try await stores.tasks.task(id: original.id, tenant: "acme")
        #expect(read?.params == original.params)
        #expect(read?.status == .queued)
        #expect(try await stores.tasks.task(id: original.id, tenant: "other") == nil)
    }

    @Test func pagesAreNewestFirstAndStableWhileTasksAreInserted() async throws {
        var ids: [String] = []
        for i in 0..<25 {
            let t = task(prompt: "p\(i)")
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
            try await stores.tasks.insert(task())
        } while cursor != nil
        #expect(seen == ids.reversed())
    }

    @Test func aTransitionHappensExactlyOnceUnderConcurrency() async throws {
        let t = task()
        try await stores.tasks.insert(t)
        let tasks = stores.tasks
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { try await tasks.transition(id: t.id, tenant: "acme", from: [.queued], to: .dispatched) != nil }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await stores.tasks.transition(id: t.id, tenant: "acme", from: [.queued, .dispatched], to: .canceled)?.finishedAt != nil)
        #expect(try await stores.tasks.transition(id: t.id, tenant: "acme", from: [.canceled], to: .queued) == nil, "final stays final")
    }

    @Test func queuePositionPutsOnlineAheadOfOffline() async throws {
        var offline = task()
        offline.params.priority = .offline
        try await stores.tasks.insert(offline)
        try await Task.sleep(for: .milliseconds(2))
        let online = task()
        #expect(try await stores.tasks.insert(online) == 0, "insert answers the position at commit")
        #expect(try await stores.tasks.tasksAhead(of: [online, offline]) == [online.id: 0, offline.id: 1])
    }

    @Test func theTriggerKeptQueueCountsMatchTheQueue() async throws {
        var offline = task()
        offline.params.priority = .offline
        try await stores.tasks.insert(offline)
        for _ in 0..<5 { try await stores.tasks.insert(task()) }
        let claimed = try await claim(preferring: [], limit: 2)
        try await stores.tasks.unclaim(attemptIDs: [claimed[0].id])
        _ = try await stores.tasks.transition(id: offline.id, tenant: "acme", from: [.queued], to: .canceled)
        let (counted, kept) = try await stores.database.transaction { db in
            (
                try db.query("SELECT lane, count(*) FROM tasks WHERE status = 'queued' GROUP BY lane").map { "\($0.text(0))=\($0.int(1))" },
                try db.query("SELECT lane, n FROM queue_counts WHERE n > 0 ORDER BY lane").map { "\($0.text(0))=\($0.int(1))" }
            )
        }
        #expect(counted == ["online=4"] && kept == counted)
        #expect(try await stores.tasks.insert(task()) == 4, "a new online task has the four queued ones ahead")
    }

    @Test func catalogueImportIsIdempotentAndReadable() async throws {
        let catalog = CatalogService(store: stores.models)
        // The repository's config/models.yaml.
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/models.yaml").path
        let count = try await catalog.importModels(CatalogFile.read(file))
        #expect(count >= 6)
        #expect(try await catalog.importModels(CatalogFile.read(file)) == count)
        let sdxl = try await catalog.model(key: "sdxl-base", for: "acme")
        #expect(sdxl.base == .sdxl && sdxl.defaultParams.width == 1024)
        #expect(try await catalog.models(for: "acme", kind: .lora, base: .sd15, source: nil).map(\.key) == ["lora-fox", "lora-watercolor"])
    }
}
