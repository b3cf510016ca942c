import CLibPQ
import Foundation
import MuseCore
import Synchronization

/// A PostgreSQL error with the server's message.
public struct PostgresError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "postgres: \(message)" }
}

/// One libpq connection. Calls block: run them on the `BlockingPool`.
public final class PostgresConnection: @unchecked Sendable {
    // libpq connections are not thread-safe; every use holds this lock.
    private let lock = Mutex(())
    private let conn: OpaquePointer

    public init(url: String) throws {
        guard let conn = PQconnectdb(url) else { throw PostgresError(message: "out of memory") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError(message: message.trimmingSuffixNewlines())
        }
        self.conn = conn
    }

    deinit {
        PQfinish(conn)
    }

    /// Runs one statement with text parameters ($1, $2, …) and returns rows of text values.
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        try lock.withLock { _ in
            var cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
            defer { cStrings.forEach { free($0) } }
            let result = cStrings.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) { values in
                    PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
                }
            }
            guard let result else { throw PostgresError(message: String(cString: PQerrorMessage(conn))) }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
                throw PostgresError(message: String(cString: PQresultErrorMessage(result)).trimmingSuffixNewlines())
            }
            return (0..<PQntuples(result)).map { row in
                (0..<PQnfields(result)).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                }
            }
        }
    }
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var s = self[...]
        while s.last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
