import Foundation
import MuseCore

/// `DatasetStore` on the embedded default's SQLite file: a row per dataset with its image count,
/// kept in the same transaction as the image rows, so the count and the cap never drift.
public struct SQLiteDatasetStore: DatasetStore {
    let database: SQLiteDatabase

    public init(database: SQLiteDatabase) {
        self.database = database
    }

    static let datasetColumns = "id, tenant, name, category, image_count, created_at, updated_at"
    static let imageColumns = "i.id, i.dataset_id, i.format, i.width, i.height, i.bytes, i.sha256, i.caption, i.version, i.created_at"

    public func create(_ dataset: Dataset) async throws {
        try await database.transaction { db in
            try db.execute(
                "INSERT INTO datasets (\(Self.datasetColumns)) VALUES (?, ?, ?, ?, 0, ?, ?)",
                [
                    .text(dataset.id), .text(dataset.tenant), .text(dataset.name), .text(dataset.category), dataset.createdAt.sqliteMillis,
                    dataset.updatedAt.sqliteMillis,
                ])
        }
    }

    public func dataset(id: String, tenant: String) async throws -> Dataset? {
        try await database.transaction { db in try Self.read(db, id: id, tenant: tenant) }
    }

    public func count(tenant: String) async throws -> Int {
        try await database.transaction { db in try db.query("SELECT count(*) FROM datasets WHERE tenant = ?", [.text(tenant)]).first?.int(0) ?? 0 }
    }

    public func list(tenant: String, limit: Int, before: String?) async throws -> [Dataset] {
        try await database.transaction { db in
            var sql = "SELECT \(Self.datasetColumns) FROM datasets WHERE tenant = ?"
            var values: [SQLiteValue] = [.text(tenant)]
            if let before {
                sql += " AND id < ?"
                values.append(.text(before))
            }
            values.append(.integer(Int64(limit)))
            return try db.query(sql + " ORDER BY id DESC LIMIT ?", values).map(Self.decodeDataset)
        }
    }

    public func images(datasetID: String) async throws -> [DatasetImage] {
        try await database.transaction { db in
            try db.query("SELECT \(Self.imageColumns) FROM dataset_images i WHERE i.dataset_id = ? ORDER BY i.id", [.text(datasetID)])
                .compactMap(Self.decodeImage)
        }
    }

    public func add(_ image: DatasetImage, tenant: String, maxImages: Int) async throws -> DatasetAddOutcome {
        try await database.transaction { db in
            guard let dataset = try Self.read(db, id: image.datasetID, tenant: tenant) else { return .noDataset }
            guard dataset.imageCount < maxImages else { return .full }
            try db.execute(
                "INSERT INTO dataset_images (\(Self.imageColumns.replacingOccurrences(of: "i.", with: ""))) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(image.id), .text(image.datasetID), .text(image.format.rawValue), .integer(Int64(image.width)), .integer(Int64(image.height)),
                    .integer(Int64(image.bytes)), .text(image.sha256), .text(image.caption), .integer(Int64(image.version)), image.createdAt.sqliteMillis,
                ])
            try db.execute(
                "UPDATE datasets SET image_count = image_count + 1, updated_at = ? WHERE id = ?", [image.createdAt.sqliteMillis, .text(dataset.id)])
            return .added(try Self.read(db, id: dataset.id, tenant: tenant) ?? dataset)
        }
    }

    public func setCaption(_ caption: String, imageID: String, datasetID: String, tenant: String) async throws -> DatasetImage? {
        try await database.transaction { db in
            guard try Self.read(db, id: datasetID, tenant: tenant) != nil else { return nil }
            guard
                try db.execute("UPDATE dataset_images SET caption = ? WHERE id = ? AND dataset_id = ?", [.text(caption), .text(imageID), .text(datasetID)]) > 0
            else { return nil }
            try db.execute("UPDATE datasets SET updated_at = ? WHERE id = ?", [Date().sqliteMillis, .text(datasetID)])
            return try Self.readImage(db, id: imageID)
        }
    }

    public func saveVersion(_ image: DatasetImage, whileAttempt attemptID: String) async throws -> DatasetImage? {
        try await database.transaction { db in
            let changed = try db.execute(
                """
                UPDATE dataset_images SET format = ?, width = ?, height = ?, bytes = ?, sha256 = ?, version = ?
                WHERE id = ? AND dataset_id = ? AND version = ?
                AND EXISTS (SELECT 1 FROM jobs WHERE attempt_id = ? AND status IN ('dispatched', 'running'))
                """,
                [
                    .text(image.format.rawValue), .integer(Int64(image.width)), .integer(Int64(image.height)), .integer(Int64(image.bytes)),
                    .text(image.sha256),
                    .integer(Int64(image.version)), .text(image.id), .text(image.datasetID), .integer(Int64(image.version - 1)), .text(attemptID),
                ])
            guard changed > 0 else { return nil }
            try db.execute("UPDATE datasets SET updated_at = ? WHERE id = ?", [Date().sqliteMillis, .text(image.datasetID)])
            return try Self.readImage(db, id: image.id)
        }
    }

    public func removeImage(id: String, datasetID: String, tenant: String) async throws -> DatasetImage? {
        try await database.transaction { db in
            guard try Self.read(db, id: datasetID, tenant: tenant) != nil, let image = try Self.readImage(db, id: id), image.datasetID == datasetID else {
                return nil
            }
            try db.execute("DELETE FROM dataset_images WHERE id = ?", [.text(id)])
            try db.execute(
                "UPDATE datasets SET image_count = image_count - 1, updated_at = ? WHERE id = ?", [Date().sqliteMillis, .text(datasetID)])
            return image
        }
    }

    public func delete(id: String, tenant: String) async throws -> [DatasetImage]? {
        try await database.transaction { db in
            guard try Self.read(db, id: id, tenant: tenant) != nil else { return nil }
            let images = try db.query("SELECT \(Self.imageColumns) FROM dataset_images i WHERE i.dataset_id = ?", [.text(id)]).compactMap(Self.decodeImage)
            try db.execute("DELETE FROM dataset_images WHERE dataset_id = ?", [.text(id)])
            try db.execute("DELETE FROM datasets WHERE id = ?", [.text(id)])
            return images
        }
    }

    private static func read(_ db: SQLiteConnection, id: String, tenant: String) throws -> Dataset? {
        try db.query("SELECT \(datasetColumns) FROM datasets WHERE id = ? AND tenant = ?", [.text(id), .text(tenant)]).first.map(decodeDataset)
    }

    private static func readImage(_ db: SQLiteConnection, id: String) throws -> DatasetImage? {
        try db.query("SELECT \(imageColumns) FROM dataset_images i WHERE i.id = ?", [.text(id)]).first.flatMap(decodeImage)
    }

    static func decodeDataset(_ row: [SQLiteValue]) -> Dataset {
        Dataset(
            id: row.text(0), tenant: row.text(1), name: row.text(2), category: row.text(3), imageCount: row.int(4),
            createdAt: row.date(5) ?? Date(timeIntervalSince1970: 0), updatedAt: row.date(6) ?? Date(timeIntervalSince1970: 0))
    }

    /// Nil for a row whose format this binary does not know (written by a newer one).
    static func decodeImage(_ row: [SQLiteValue]) -> DatasetImage? {
        guard let format = ImageProbe.Format(rawValue: row.text(2)) else { return nil }
        return DatasetImage(
            id: row.text(0), datasetID: row.text(1), format: format, width: row.int(3), height: row.int(4), bytes: row.int(5), sha256: row.text(6),
            caption: row.text(7), version: row.int(8), createdAt: row.date(9) ?? Date(timeIntervalSince1970: 0))
    }
}
