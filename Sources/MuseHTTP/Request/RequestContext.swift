import Logging
import NIOCore

/// What an authenticated caller is; each profile's security filter supplies its own type.
public protocol Principal: Sendable {
    /// A stable id for logs and ownership checks.
    var id: String { get }
}

/// Travels with one request through the filters to the handler.
public struct RequestContext: Sendable {
    public let requestID: String
    /// Carries `request_id` in its metadata.
    public var logger: Logger
    /// The route's pattern (`/v1/generations/{id}`), or `unmatched`: a bounded label for logs and metrics.
    public let route: String
    /// Set by the profile's security filter.
    public var principal: (any Principal)?
    public let eventLoop: any EventLoop

    public init(requestID: String, logger: Logger, route: String, eventLoop: any EventLoop) {
        self.requestID = requestID
        self.logger = logger
        self.route = route
        self.eventLoop = eventLoop
        self.logger[metadataKey: "request_id"] = .string(requestID)
    }
}
