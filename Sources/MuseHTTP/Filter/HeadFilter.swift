import HTTPTypes

/// A group's access check that needs only the request head (credentials). The server runs it
/// when the head arrives and reads no body byte until it passes, so a refused client cannot
/// make the server buffer an upload; a thrown error is the answer, and the connection closes.
public protocol HeadFilter: Sendable {
    /// Checks the head; sets what it learns (the principal) on `context`.
    func check(_ head: HTTPRequest, context: inout RequestContext) async throws
}
