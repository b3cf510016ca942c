import Foundation
import MuseInfra

/// `CommunityStore` on the embedded default's SQLite file (muse-internal's own track).
struct SQLiteCommunityStore: CommunityStore {
    let database: SQLiteDatabase

    static let columns = "id, author, author_name, task_id, image_id, width, height, title, like_count, created_at"

    func publish(_ post: CommunityPost) async throws -> (post: CommunityPost, created: Bool) {
        try await database.transaction { db in
            if let existing = try db.query("SELECT \(Self.columns) FROM community_posts WHERE image_id = ?", [.text(post.imageID)]).first {
                return (Self.decode(existing), false)
            }
            try db.execute(
                "INSERT INTO community_posts (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                [
                    .text(post.id), .text(post.author), post.authorName.map(SQLiteValue.text) ?? .null, .text(post.generationID), .text(post.imageID),
                    .integer(Int64(post.width)), .integer(Int64(post.height)), .text(post.title), post.createdAt.sqliteMillis,
                ])
            return (post, true)
        }
    }

    func post(id: String) async throws -> CommunityPost? {
        try await database.transaction { db in try Self.read(db, id: id) }
    }

    func feed(limit: Int, before: String?) async throws -> [CommunityPost] {
        try await database.transaction { db in
            let rows =
                if let before {
                    try db.query(
                        "SELECT \(Self.columns) FROM community_posts WHERE id < ? ORDER BY id DESC LIMIT ?", [.text(before), .integer(Int64(limit))])
                } else {
                    try db.query("SELECT \(Self.columns) FROM community_posts ORDER BY id DESC LIMIT ?", [.integer(Int64(limit))])
                }
            return rows.map(Self.decode)
        }
    }

    func like(postID: String, user: String, at date: Date) async throws -> CommunityPost? {
        try await database.transaction { db in
            guard try Self.read(db, id: postID) != nil else { return nil }
            let added = try db.execute(
                "INSERT INTO community_likes (post_id, user, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [.text(postID), .text(user), date.sqliteMillis])
            if added > 0 { try db.execute("UPDATE community_posts SET like_count = like_count + 1 WHERE id = ?", [.text(postID)]) }
            return try Self.read(db, id: postID)
        }
    }

    func unlike(postID: String, user: String) async throws -> CommunityPost? {
        try await database.transaction { db in
            guard try Self.read(db, id: postID) != nil else { return nil }
            let removed = try db.execute("DELETE FROM community_likes WHERE post_id = ? AND user = ?", [.text(postID), .text(user)])
            if removed > 0 { try db.execute("UPDATE community_posts SET like_count = like_count - 1 WHERE id = ?", [.text(postID)]) }
            return try Self.read(db, id: postID)
        }
    }

    func liked(by user: String, among postIDs: [String]) async throws -> Set<String> {
        guard !postIDs.isEmpty else { return [] }
        return try await database.transaction { db in
            let marks = postIDs.map { _ in "?" }.joined(separator: ", ")
            return Set(
                try db.query(
                    "SELECT post_id FROM community_likes WHERE user = ? AND post_id IN (\(marks))", [.text(user)] + postIDs.map(SQLiteValue.text)
                ).map { $0.text(0) })
        }
    }

    func delete(id: String, author: String) async throws -> Bool {
        try await database.transaction { db in
            guard try db.execute("DELETE FROM community_posts WHERE id = ? AND author = ?", [.text(id), .text(author)]) > 0 else { return false }
            try db.execute("DELETE FROM community_likes WHERE post_id = ?", [.text(id)])
            return true
        }
    }

    private static func read(_ db: SQLiteConnection, id: String) throws -> CommunityPost? {
        try db.query("SELECT \(columns) FROM community_posts WHERE id = ?", [.text(id)]).first.map(decode)
    }

    static func decode(_ row: [SQLiteValue]) -> CommunityPost {
        CommunityPost(
            id: row.text(0), author: row.text(1), authorName: row.optionalText(2), generationID: row.text(3), imageID: row.text(4),
            width: row.int(5), height: row.int(6), title: row.text(7), likeCount: row.int(8), createdAt: row.date(9) ?? Date(timeIntervalSince1970: 0))
    }
}
