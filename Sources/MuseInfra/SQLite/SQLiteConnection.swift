import CSQLite
import MuseCore
import Synchronization

/// A value in or out of SQLite.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A SQLite error with the library's message.
public struct SQLiteError: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public var description: String { "sqlite error \(code): \(message)" }

    /// A fault of the storage, not of the request: busy past the timeout, a full disk, I/O.
    public var isStorageFault: Bool {
        [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_READONLY].contains(code & 0xFF)
    }
}

extension SQLiteError {
    /// What a storage fault is, in a word (`busy`, `full`, `failing`); nil for other errors.
    public var storageCondition: String? {
        guard isStorageFault else { return nil }
        return switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: "busy"
        case SQLITE_FULL: "full"
        default: "failing"
        }
    }
}

/// One SQLite connection in WAL mode with foreign keys on. Calls block: run them on the `BlockingPool`.
public final class SQLiteConnection: @unchecked Sendable {
    // Opened with SQLITE_OPEN_FULLMUTEX: SQLite serializes every call on this handle itself.
    private let db: OpaquePointer
    /// Prepared statements by SQL text: preparing (parsing, planning) costs more than running
    /// the small statements of the hot paths. Bounded; dynamic SQL past the bound is prepared each time.
    private let statements = Mutex<[String: Statement]>([:])
    private static let maxCachedStatements = 256

    /// A prepared statement, finalized when dropped from the cache.
    private final class Statement: @unchecked Sendable {
        let handle: OpaquePointer
        init(_ handle: OpaquePointer) { self.handle = handle }
        deinit { sqlite3_finalize(handle) }
    }

    public init(path: String, settings: SQLiteSettings = SQLiteSettings()) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: rc, message: message)
        }
        db = handle
        sqlite3_busy_timeout(db, settings.busyTimeoutMilliseconds)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA foreign_keys=ON")
        try execute(settings.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
    }

    deinit {
        statements.withLock { $0.removeAll() }
        sqlite3_close_v2(db)
    }

    /// Runs a script of several statements (a migration; triggers included), no parameters.
    public func executeScript(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw error() }
    }

    /// Whether a transaction is open (SQLite rolls one back by itself on some errors).
    public var isInTransaction: Bool {
        sqlite3_get_autocommit(db) == 0
    }

    /// The journal mode in force (`wal` once open).
    public var journalMode: String {
        get throws {
            guard case .text(let mode)? = try query("PRAGMA journal_mode").first?.first else { return "" }
            return mode
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> Int {
        _ = try query(sql, parameters)
        return Int(sqlite3_changes(db))
    }

    /// Runs one statement and returns its rows.
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        let cached = statements.withLock { $0.removeValue(forKey: sql) }
        let statement: Statement
        if let cached {
            statement = cached
        } else {
            var handle: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &handle, nil) == SQLITE_OK, let handle else { throw error() }
            statement = Statement(handle)
        }
        // Taken out of the cache while in use, put back (reset) after: a statement is never used twice at once.
        defer {
            sqlite3_reset(statement.handle)
            sqlite3_clear_bindings(statement.handle)
            statements.withLock { if $0.count < Self.maxCachedStatements { $0[sql] = statement } }
        }
        for (i, parameter) in parameters.enumerated() {
            try bind(parameter, at: Int32(i + 1), in: statement.handle)
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(statement.handle)
            if rc == SQLITE_DONE { return rows }
            guard rc == SQLITE_ROW else { throw error() }
            rows.append((0..<sqlite3_column_count(statement.handle)).map { column(statement.handle, $0) })
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func bind(_ value: SQLiteValue, at index: Int32, in statement: OpaquePointer) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(statement, index)
        case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
        case .real(let v): rc = sqlite3_bind_double(statement, index, v)
        case .text(let v):
            // With its byte length: -1 would stop at a NUL and store (or look up) a shortened text.
            // (An empty text still gets a pointer: a null one would bind NULL.)
            var text = v
            rc = text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    guard let base = chars.baseAddress, !chars.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, Self.transient) }
                    return sqlite3_bind_text(statement, index, base, Int32(chars.count), Self.transient)
                }
            }
        case .blob(let v): rc = v.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
        }
        guard rc == SQLITE_OK else { throw error() }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // By its byte length, so a stored NUL comes back with what follows it.
            // (sqlite3_column_text first, then its byte count, as SQLite's documentation advises.)
            guard let text = sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let base = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }

    private func error() -> SQLiteError {
        SQLiteError(code: sqlite3_errcode(db), message: String(cString: sqlite3_errmsg(db)))
    }
}
