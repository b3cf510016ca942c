import Foundation

/// Which addresses a worker may register with (`worker.allowed_hosts`). The server pushes jobs,
/// with the shared worker token, to whatever URL a worker gives: only hosts the operator named
/// may receive them. Entries are host names (`gpu-1.workers.svc`), suffixes (`*.workers.svc`) and
/// IPv4/IPv6 CIDRs (`10.0.0.0/8`, `::1/128`); a literal address must fall in a CIDR.
public struct WorkerURLPolicy: Sendable, Equatable {
    struct CIDR: Sendable, Equatable {
        var network: [UInt8]
        var bits: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == network.count else { return false }
            var left = bits
            for (a, n) in zip(address, network) {
                guard left > 0 else { return true }
                let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
                guard a & mask == n & mask else { return false }
                left -= 8
            }
            return true
        }
    }

    var names: Set<String> = []
    var suffixes: [String] = []
    var cidrs: [CIDR] = []

    /// Parses the comma-separated list; nil names the entry that is not a host, suffix or CIDR.
    public static func parse(_ list: String) -> Result<WorkerURLPolicy, WorkerURLPolicyError> {
        var policy = WorkerURLPolicy()
        for raw in list.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry.isEmpty { continue }
            if let slash = entry.firstIndex(of: "/") {
                guard let address = IPAddress.parse(String(entry[..<slash])), let bits = Int(entry[entry.index(after: slash)...]),
                    (0...(address.count * 8)).contains(bits)
                else { return .failure(WorkerURLPolicyError(entry: entry)) }
                policy.cidrs.append(CIDR(network: address, bits: bits))
            } else if let address = IPAddress.parse(entry) {
                policy.cidrs.append(CIDR(network: address, bits: address.count * 8))
            } else if entry.hasPrefix("*.") {
                policy.suffixes.append(String(entry.dropFirst()))
            } else if entry.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) {
                policy.names.insert(entry)
            } else {
                return .failure(WorkerURLPolicyError(entry: entry))
            }
        }
        return .success(policy)
    }

    /// Whether a worker at `url` may be called.
    public func allows(_ url: String) -> Bool {
        guard let host = HTTPTarget.parse(url)?.host else { return false }
        if let address = IPAddress.parse(host) { return cidrs.contains { $0.contains(address) } }
        return names.contains(host) || suffixes.contains { host.hasSuffix($0) }
    }
}

/// A `worker.allowed_hosts` entry that is not a host name, `*.suffix` or CIDR.
public struct WorkerURLPolicyError: Error, Sendable, Equatable {
    public let entry: String
}

/// IPv4 and IPv6 literals as bytes (4 or 16).
enum IPAddress {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
