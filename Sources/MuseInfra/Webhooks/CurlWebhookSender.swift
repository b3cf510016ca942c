import Foundation
import MuseCore
import MuseCurl

/// `WebhookSender` through libcurl on its own thread pool (a hanging receiver holds one of
/// its threads, never a worker push or an event loop), pinned to the checked address and
/// never following redirects.
public struct CurlWebhookSender: WebhookSender {
    let http = CurlHTTPClient()
    let pool: BlockingPool

    public init(pool: BlockingPool) {
        self.pool = pool
    }

    public func post(url: String, host: String, port: Int, address: [UInt8], headers: [String], body: [UInt8], timeout: Duration) async throws -> Int {
        // An IPv6 literal is its own checked address (nothing to resolve), and this libcurl cannot
        // parse one as the host of a resolve entry: it goes unpinned. Any name is pinned.
        let pins = host.contains(":") ? [] : ["\(host):\(port):\(Self.text(address))"]
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return try await pool.run { [http] in
            try http.send(url, json: body, headers: headers, timeoutMilliseconds: milliseconds, resolve: pins).status
        }
    }

    /// An address as libcurl's resolve list spells it (IPv6 in brackets).
    static func text(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
        return "[" + groups.joined(separator: ":") + "]"
    }
}
