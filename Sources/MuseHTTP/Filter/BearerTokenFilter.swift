import HTTPTypes

/// A group check for one shared secret: `Authorization: Bearer <token>`, compared in constant
/// time. Guards the server's worker routes and the simulated worker's own.
public struct BearerTokenFilter: HeadFilter {
    let token: [UInt8]
    let detail: String

    public init(token: String, detail: String = "token required") {
        self.token = Array(token.utf8)
        self.detail = detail
    }

    public func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
        guard let presented = head.bearerToken, Self.equal(Array(presented.utf8), token) else {
            throw HTTPError(.unauthenticated, detail: detail)
        }
    }

    /// Time independent of where the bytes differ, so a caller cannot guess the token byte by byte.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
