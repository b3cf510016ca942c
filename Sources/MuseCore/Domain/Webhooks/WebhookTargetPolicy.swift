import Foundation

/// Which webhook targets may be called (API.md): never link-local or metadata addresses, nor
/// private or loopback ones, unless config allows loopback (the embedded default, for local
/// development) or lists the host.
public struct WebhookTargetPolicy: Sendable, Equatable {
    public var allowLoopback: Bool
    /// Host names or addresses allowed whatever they resolve to (an internal receiver).
    public var allowedHosts: Set<String>

    public init(allowLoopback: Bool, allowedHosts: Set<String>) {
        self.allowLoopback = allowLoopback
        self.allowedHosts = allowedHosts
    }

    /// The scheme, host and port of a webhook URL; nil when it is not an absolute http(s) URL.
    public static func target(_ url: String) -> (host: String, port: Int)? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil
        else { return nil }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (bare.lowercased(), components.port ?? (scheme == "https" ? 443 : 80))
    }

    /// Why an address is refused, or nil when it may be called.
    public func refusal(host: String, address: [UInt8]) -> String? {
        if allowedHosts.contains(host) { return nil }
        switch Self.classify(address) {
        case .public: return nil
        case .loopback: return allowLoopback ? nil : "a loopback address"
        case .linkLocal: return "a link-local or metadata address"
        case .private: return "a private address"
        case .unspecified: return "an unspecified address"
        }
    }

    enum AddressClass { case `public`, loopback, linkLocal, `private`, unspecified }

    /// IPv4 (4 bytes) or IPv6 (16 bytes; IPv4-mapped addresses are judged as IPv4).
    static func classify(_ a: [UInt8]) -> AddressClass {
        if a.count == 16, a[0..<10].allSatisfy({ $0 == 0 }), a[10] == 0xFF, a[11] == 0xFF { return classify(Array(a[12...])) }
        if a.count == 4 {
            switch (a[0], a[1]) {
            case (0, _): return .unspecified
            case (127, _): return .loopback
            case (169, 254): return .linkLocal  // 169.254.169.254 is the cloud metadata service
            case (10, _), (192, 168), (100, 64...127): return .private
            case (172, 16...31): return .private
            default: return .public
            }
        }
        if a.count == 16 {
            if a.allSatisfy({ $0 == 0 }) { return .unspecified }
            if a[0..<15].allSatisfy({ $0 == 0 }) && a[15] == 1 { return .loopback }
            if a[0] == 0xFE && (a[1] & 0xC0) == 0x80 { return .linkLocal }
            if (a[0] & 0xFE) == 0xFC { return .private }  // unique local, fd00:ec2::254 (a metadata service) included
            return .public
        }
        return .unspecified
    }
}
