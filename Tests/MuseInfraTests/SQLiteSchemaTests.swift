import Foundation
import MuseWorkerProtocol
import NIOPosix
import Testing

@testable import MuseCore
@testable import MuseInfra

/// What only the SQLite stores have: migrations, trigger-kept counts, the catalogue file.
/// (What every store must do is in MuseStoreContractTests.)
@Suite struct SQLiteSchemaTests {
    let stores: EmbeddedStores

    init() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-store-\(UUID().uuidString)").path
        stores = try await EmbeddedStores.open(dataDir: dir, pool: BlockingPool(pool: .singleton))
    }

    func task(priority: Priority = .online) -> GenerationTask {
        let params = GenerationParams(
            model: "sd15-base", prompt: "fox", negativePrompt: "", width: 512, height: 512, steps: 20, guidanceScale: 7,
            sampler: .eulerA, seed: 1, numImages: 1, loras: [], initImage: nil, strength: 0.75, priority: priority,
            schedule: .now, webhookURL: nil, metadata: .object([])
        )
        return GenerationTask(id: IDGenerator.make("gen"), tenant: "acme", params: params, createdAt: Date())
    }

    @Test func migrationsRunOnceAndAreRecorded() async throws {
        #expect(try await stores.database.migrate() == [])
    }

    static let track = SQLiteMigrationTrack(name: "test", steps: ["CREATE TABLE IF NOT EXISTS extra (id INTEGER PRIMARY KEY)"])

    func execute(_ sql: String) async throws {
        try await stores.database.transaction { db in try db.execute(sql) }
    }

    @Test func aTrackIsAppliedOnceAndRecorded() async throws {
        try await stores.database.migrate(tracks: [Self.track])
        try await execute("INSERT INTO extra (id) VALUES (1)")
        try await stores.database.migrate(tracks: [Self.track])
        let rows = try await stores.database.transaction { db in
            (try db.query("SELECT count(*) FROM extra").first?.int(0), try db.query("SELECT version FROM schema_tracks WHERE name = 'test'").first?.int(0))
        }
        #expect(rows.0 == 1 && rows.1 == 1)
    }

    @Test func aDatabaseNewerThanTheBinaryIsRefusedAndNotLowered() async throws {
        try await execute("PRAGMA user_version = 99")
        await #expect(throws: SQLiteMigrationError.self) { try await stores.database.migrate() }
        #expect(try await stores.database.transaction { db in try db.query("PRAGMA user_version").first?.int(0) } == 99)
    }

    @Test(arguments: ["-1", "'abc'", "1.5", "5"]) func aTamperedTrackVersionIsRefused(_ version: String) async throws {
        try await execute("INSERT INTO schema_tracks (name, version) VALUES ('test', \(version))")
        await #expect(throws: SQLiteMigrationError.self) { try await stores.database.migrate(tracks: [Self.track]) }
    }

    /// An older binary started on this database sets `user_version` back to 8 (it knew 8
    /// migrations); the later ones run again and keep what is there (13 rebuilds the webhook
    /// tables: their rows stay); a missing `schema_tracks` is made again.
    @Test func whatAnOlderBinaryLeftBehindIsRepaired() async throws {
        try await stores.database.migrate(tracks: [Self.track])
        try await execute(
            "INSERT INTO webhook_deliveries (id, tenant, task_id, url, status, created_at) VALUES ('whd_1', 'acme', 'trn_1', 'http://h/', 'failed', 1)")
        try await execute("INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms) VALUES ('whd_1', 2, 503, 7)")
        try await execute("PRAGMA user_version = 8")
        #expect(try await stores.database.migrate(tracks: [Self.track]) == [9, 10, 11, 12, 13, 14])
        let kept = try await stores.database.transaction { db in
            try db.query("SELECT d.task_id, a.status_code FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id").map {
                "\($0.text(0)) \($0.int(1))"
            }
        }
        #expect(kept == ["trn_1 503"])
        try await execute("DROP TABLE schema_tracks")
        try await stores.database.migrate(tracks: [Self.track])
        #expect(try await stores.database.transaction { db in try db.query("SELECT version FROM schema_tracks").first?.int(0) } == 1)
    }

    @Test func theTriggerKeptQueueCountsMatchTheQueue() async throws {
        let offline = task(priority: .offline)
        try await stores.tasks.insert(offline)
        for _ in 0..<5 { try await stores.tasks.insert(task()) }
        let claimed = try await stores.tasks.claimNext(
            workerID: "w-1", abilities: Ability.generation, preferredModels: [], loadedAnywhere: [], agedBefore: Date(),
            leaseUntil: Date().addingTimeInterval(60), limit: 2)
        _ = try await stores.tasks.apply(.unclaim, attemptID: claimed[0].id)
        _ = try await stores.tasks.apply(.cancel, taskID: offline.id, tenant: "acme")
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
        let sdxl = try await catalog.model(key: "sdxl-base", for: Caller(tenant: "acme"))
        #expect(sdxl.base == .sdxl && sdxl.defaultParams.width == 1024)
        #expect(try await catalog.models(for: Caller(tenant: "acme"), kind: .lora, base: .sd15, source: nil).map(\.key) == ["lora-fox", "lora-watercolor"])
    }

    @Test func aCatalogueEntryNamesItsTeamOrOwnerExactlyWhenItsSourceNeedsOne() throws {
        let team = try CatalogFile.parse("models: [{key: s, name: S, type: lora, base_model: sd15, source: team, team: design}]", source: "t")
        #expect(team.first?.owner == "design")
        let refused = [
            "source: team", "source: team, owner: ann", "source: team, team: \"\"", "source: private", "source: private, team: design",
            "team: design", "owner: ann",
        ]
        for fields in refused {
            #expect(throws: CatalogFile.ParseError.self, "\(fields)") {
                try CatalogFile.parse("models: [{key: s, name: S, type: lora, base_model: sd15, \(fields)}]", source: "t")
            }
        }
    }
}
