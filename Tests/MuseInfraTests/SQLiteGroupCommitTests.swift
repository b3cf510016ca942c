import Foundation
import NIOPosix
import Testing

@testable import MuseCore
@testable import MuseInfra
@testable import MuseServer

/// Transactions committed in groups: each one all or nothing, whatever its neighbours do.
@Suite struct SQLiteGroupCommitTests {
    struct Refused: Error {}

    let database: SQLiteDatabase

    init() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muse-group-\(UUID().uuidString)/muse.sqlite").path
        database = try SQLiteDatabase(path: path, pool: BlockingPool(pool: .singleton))
        try await database.transaction { try $0.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY)") }
    }

    func count(_ condition: String = "1") async throws -> SQLiteValue? {
        try await database.transaction { try $0.query("SELECT count(*) FROM notes WHERE \(condition)").first?.first }
    }

    @Test func aFailingTransactionUndoesOnlyItsOwnWork() async throws {
        // 300 at once, on both lanes, so that they share groups; every tenth inserts, then throws.
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<300 {
                let lane = n % 3 == 0 ? database.dispatchLane : database
                group.addTask {
                    do {
                        try await lane.transaction { db in
                            try db.execute("INSERT INTO notes (n) VALUES (?)", [.integer(Int64(n))])
                            if n % 10 == 0 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 270)
        #expect(try await count() == .integer(270))
        #expect(try await count("n % 10 = 0") == .integer(0))
    }

    @Test func aStatementErrorInOneTransactionLeavesTheOthersCommitted() async throws {
        try await database.transaction { try $0.execute("INSERT INTO notes (n) VALUES (1)") }
        let duplicate = Task { [database] in try await database.transaction { try $0.execute("INSERT INTO notes (n) VALUES (1)") } }
        let fresh = Task { [database] in try await database.transaction { try $0.execute("INSERT INTO notes (n) VALUES (2)") } }
        await #expect(throws: SQLiteError.self) { try await duplicate.value }
        try await fresh.value
        #expect(try await count() == .integer(2))
    }
}
