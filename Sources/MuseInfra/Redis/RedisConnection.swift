import CHiredis
import MuseCore
import Synchronization

/// A Redis reply.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case string([UInt8])
    case array([RedisReply])
    case null
}

public struct RedisError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "redis: \(message)" }
}

/// One hiredis connection. Calls block: run them on the `BlockingPool`.
public final class RedisConnection: @unchecked Sendable {
    // hiredis contexts are not thread-safe; every use holds this lock.
    private let lock = Mutex(())
    private let context: UnsafeMutablePointer<redisContext>

    public init(host: String, port: Int, timeoutSeconds: Int = 5) throws {
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw RedisError(message: "cannot allocate a context")
        }
        guard context.pointee.err == 0 else {
            let message = Self.errorString(context)
            redisFree(context)
            throw RedisError(message: message)
        }
        self.context = context
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command given as its arguments (binary-safe) and returns the reply.
    public func command(_ arguments: [String]) throws -> RedisReply {
        try lock.withLock { _ in
            let bytes = arguments.map { Array($0.utf8) }
            let lengths = bytes.map { $0.count }
            let cStrings: [UnsafeMutablePointer<CChar>?] = bytes.map { b in
                let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(b.count, 1))
                b.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { p.initialize(from: base.assumingMemoryBound(to: CChar.self), count: b.count) }
                }
                return p
            }
            defer { cStrings.forEach { $0?.deallocate() } }
            var argvArray = cStrings.map { UnsafePointer($0) }
            let raw = argvArray.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
            guard let raw else { throw RedisError(message: Self.errorString(context)) }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            defer { freeReplyObject(raw) }
            return Self.convert(reply.pointee)
        }
    }

    private static func convert(_ reply: redisReply) -> RedisReply {
        func text() -> String { reply.str.map { String(cString: $0) } ?? "" }
        switch reply.type {
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(reply.integer)
        case REDIS_REPLY_STRING:
            guard let str = reply.str else { return .string([]) }
            return .string(Array(UnsafeRawBufferPointer(start: str, count: Int(reply.len))))
        case REDIS_REPLY_ARRAY:
            return .array((0..<Int(reply.elements)).compactMap { reply.element[$0].map { convert($0.pointee) } })
        default: return .null
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
