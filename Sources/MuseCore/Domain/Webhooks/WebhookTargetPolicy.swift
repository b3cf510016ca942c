import Foundation

/// Which webhook targets may be called (docs/API.md): never link-local or metadata addresses, nor
/// private or loopback ones, unless config allows loopback (the embedded default, for local
/// development) or lists the host.
public struct WebhookTargetPolicy: Sendable, Equatable {
    public var allowLoopback: Bool
    /// Host names or addresses allowed whatever they resolve to (an internal receiver).
    public var allowedHosts: Set<String>
    /// Ports a webhook may use besides 80 and 443.
    public var allowedPorts: Set<Int>

    public init(allowLoopback: Bool, allowedHosts: Set<String>, allowedPorts: Set<Int> = []) {
        self.allowLoopback = allowLoopback
        self.allowedHosts = allowedHosts
        self.allowedPorts = allowedPorts
    }

    /// Why a port is refused, or nil: 80 and 443, and those config lists (a receiver on
    /// another port of a public host is more likely a service that never meant to be one).
    /// A listed host, and loopback where allowed (local development), may use any port.
    public func refusal(host: String, port: Int, addresses: [[UInt8]]) -> String? {
        if port == 80 || port == 443 || allowedPorts.contains(port) || allowedHosts.contains(host) { return nil }
        if allowLoopback, addresses.allSatisfy({ Self.classify($0) == .loopback }) { return nil }
        return "port \(port) (only 80, 443 and webhooks.allowed_ports)"
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
        case .reserved: return "a multicast, broadcast or reserved address"
        }
    }

    enum AddressClass { case `public`, loopback, linkLocal, `private`, unspecified, reserved }

    /// IPv4 (4 bytes) or IPv6 (16 bytes). IPv6 forms that carry an IPv4 address (mapped,
    /// compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that address: through a
    /// NAT64 gateway, 64:ff9b::a9fe:a9fe is the metadata service.
    static func classify(_ a: [UInt8]) -> AddressClass {
        if a.count == 4 {
            switch (a[0], a[1], a[2]) {
            case (0, _, _): return .unspecified
            case (127, _, _): return .loopback
            case (169, 254, _): return .linkLocal  // 169.254.169.254 is the cloud metadata service
            case (10, _, _), (192, 168, _), (100, 64...127, _), (172, 16...31, _): return .private
            // IETF, documentation (TEST-NET-1, -2, -3), benchmarking, multicast, 240/4 and broadcast.
            case (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113), (198, 18...19, _), (224...255, _, _): return .reserved
            default: return .public
            }
        }
        guard a.count == 16 else { return .unspecified }
        if a[0..<10].allSatisfy({ $0 == 0 }), a[10] == 0xFF, a[11] == 0xFF { return classify(Array(a[12...])) }
        if a.allSatisfy({ $0 == 0 }) { return .unspecified }
        if a[0..<15].allSatisfy({ $0 == 0 }) && a[15] == 1 { return .loopback }
        if a[0..<12].allSatisfy({ $0 == 0 }) { return classify(Array(a[12...])) }  // IPv4-compatible (deprecated)
        if a[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]) { return classify(Array(a[12...])) }  // NAT64
        // IPv4-translated (SIIT, ::ffff:0:0/96), judged by its IPv4 address like the forms above.
        if a[0..<8].allSatisfy({ $0 == 0 }), a[8] == 0xFF, a[9] == 0xFF, a[10] == 0, a[11] == 0 { return classify(Array(a[12...])) }
        // The local-use NAT64 prefix (64:ff9b:1::/48, RFC 8215): a gateway inside the network.
        if a[0..<6].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01]) { return .private }
        if a[0] == 0x20, a[1] == 0x01, a[2] == 0x0D, a[3] == 0xB8 { return .reserved }  // documentation 2001:db8::/32
        // Teredo (2001::/32) tunnels to an IPv4 address hidden in it; discard-only 100::/64.
        if a[0] == 0x20, a[1] == 0x01, a[2] == 0, a[3] == 0 { return .reserved }
        if a[0] == 0x01, a[1..<8].allSatisfy({ $0 == 0 }) { return .reserved }
        if a[0] == 0x20 && a[1] == 0x02 { return classify(Array(a[2..<6])) }  // 6to4
        if a[0] == 0xFE && (a[1] & 0xC0) == 0x80 { return .linkLocal }
        if a[0] == 0xFE && (a[1] & 0xC0) == 0xC0 { return .private }  // site-local fec0::/10
        if (a[0] & 0xFE) == 0xFC { return .private }  // unique local, fd00:ec2::254 (a metadata service) included
        if a[0] == 0xFF { return .reserved }  // multicast
        return .public
    }
}
