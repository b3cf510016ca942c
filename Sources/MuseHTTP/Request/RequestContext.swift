import Logging
import NIOCore

/// What an authenticated caller is; each profile's security filter supplies its own type.
public protocol Principal: Sendable {
    /// A stable id for logs and ownership checks.
    var id: String { get }
    /// Groups whose shared objects the caller may see (a company's teams); none by default.
    var groups: [String] { get }
}

extension Principal {
    public var groups: [String] { [] }
}

/// Travels with one request through the filters to the handler.
public struct RequestContext: Sendable {
    public let requestID: String
    /// The logger without the request id, for filters that add it themselves.
    private(set) var baseLogger: Logger
    /// Carries `request_id` in its metadata (added when read, so requests that never log pay nothing).
    public var logger: Logger {
        get {
            var logger = baseLogger
            logger[metadataKey: "request_id"] = .string(requestID)
            return logger
        }
        set { baseLogger = newValue }
    }
    /// The route's pattern (`/v1/generations/{id}`), or `unmatched`: a bounded label for logs and metrics.
    public let route: String
    /// Set by the profile's security filter.
    public var principal: (any Principal)?
    public let eventLoop: any EventLoop

    public init(requestID: String, logger: Logger, route: String, eventLoop: any EventLoop) {
        self.requestID = requestID
        self.baseLogger = logger
        self.route = route
        self.eventLoop = eventLoop
    }
}
