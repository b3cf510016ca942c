import HTTPTypes
import MuseHTTP
import MuseCore
import MuseInfra

/// The workers' group check: `Authorization: Bearer <shared worker token>`, compared in
/// constant time. Guards the server's `/internal/v1` group and the simulated worker's routes.
public struct WorkerTokenFilter: HeadFilter {
    let token: [UInt8]

    public init(token: String) {
        self.token = Array(token.utf8)
    }

    public func check(_ head: HTTPRequest, context: inout RequestContext) async throws {
        guard let authorization = head.headerFields[.authorization], authorization.hasPrefix("Bearer "),
            Digest.equal(Array(authorization.utf8.dropFirst("Bearer ".count)), token)
        else { throw HTTPError(.unauthenticated, detail: "worker token required") }
    }
}
