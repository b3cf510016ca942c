import Foundation
import Logging
import MuseHTTP
import NIOCore

/// The checked configuration a binary runs with.
public struct MuseConfig: Sendable {
    public var server: HTTPServerConfiguration
    /// 0 means one event loop per core.
    public var eventLoopThreads: Int
    public var logLevel: Logger.Level
    public var accessLog: Bool
    public var dataDir: String
    /// The catalogue file imported at first start (relative to the working directory).
    public var catalogFile: String
    public var generationLimits: GenerationLimits
    /// The shared worker token; empty: `DATA_DIR/worker-token`.
    public var workerToken: String
    /// The base URL workers call back on; empty: `http://server.host:server.port`.
    public var workerCallbackURL: String
    public var maxAttempts: Int
    public var offPeak: OffPeakWindow
    public var modelAffinity: Bool
    public var maxAffinityWait: TimeInterval
}
