import Foundation

/// The host and port an absolute http(s) URL names (a webhook receiver, a worker): nil for any
/// other scheme, userinfo, a port outside 1...65535, or any byte that is not printable ASCII (a
/// space, a control character or a NUL, which libcurl would refuse or cut the URL at). One
/// parser, so the host a policy checks is the host that is called.
public enum HTTPTarget {
    public static func parse(_ url: String) -> (host: String, port: Int)? {
        guard url.utf8.allSatisfy({ (0x21...0x7E).contains($0) }), let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil,
            components.rangeOfPort == nil || components.port != nil, (components.port ?? 80) >= 1, (components.port ?? 80) <= 65535
        else { return nil }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (bare.lowercased(), components.port ?? (scheme == "https" ? 443 : 80))
    }
}
