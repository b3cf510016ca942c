import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `HostResolver` through getaddrinfo on the blocking pool.
public struct SystemHostResolver: HostResolver {
    let pool: BlockingPool

    public init(pool: BlockingPool) {
        self.pool = pool
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func addresses(of host: String) async throws -> [[UInt8]] {
        try await pool.run {
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
