import Foundation
import MuseCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `HostResolver` through getaddrinfo on a pool of its own, given up after `timeout`: a DNS
/// server that never answers holds only these threads (never the database's) and delays only
/// the request whose URL it is asked about, by at most the timeout.
public struct SystemHostResolver: HostResolver {
    let pool: BlockingPool
    let timeout: Duration

    public init(pool: BlockingPool = BlockingPool(threads: 4), timeout: Duration = .seconds(3)) {
        self.pool = pool
        self.timeout = timeout
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func addresses(of host: String) async throws -> [[UInt8]] {
        // Not a task group: it would wait for a hung getaddrinfo. The first answer resumes; the
        // lookup still hanging finishes on its own thread later, and its answer is dropped.
        let timeout = timeout
        return try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            pool.execute { once.resume(Result { try Self.lookUp(host) }) }
            Task {
                try? await Task.sleep(for: timeout)
                once.resume(.failure(Failure(description: "no answer within \(timeout)")))
            }
        }
    }

    private static func lookUp(_ host: String) throws -> [[UInt8]] {
        do {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, nil, &hints, &result)
            guard rc == 0 else { throw Failure(description: String(cString: gai_strerror(rc))) }
            defer { freeaddrinfo(result) }
            var addresses: [[UInt8]] = []
            var cursor = result
            while let info = cursor?.pointee {
                if info.ai_family == AF_INET, let raw = info.ai_addr {
                    raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                        addresses.append(withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) })
                    }
                } else if info.ai_family == AF_INET6, let raw = info.ai_addr {
                    raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                        addresses.append(withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) })
                    }
                }
                cursor = info.ai_next
            }
            var unique: [[UInt8]] = []
            for address in addresses where !unique.contains(address) { unique.append(address) }
            return unique
        }
    }
}

/// Resumes a continuation with the first result given; later ones are dropped.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
