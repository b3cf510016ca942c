import Foundation
import Logging
import ServiceLifecycle

/// Periodic clean-up that no request should wait for: expired idempotency keys.
public struct Housekeeping: Service, CustomStringConvertible {
    let generations: GenerationService
    let interval: Duration
    let logger: Logger

    public init(generations: GenerationService, interval: Duration = .seconds(600), logger: Logger) {
        self.generations = generations
        self.interval = interval
        self.logger = logger
    }

    public var description: String { "Housekeeping" }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                let purged = try await generations.purgeIdempotencyKeys()
                if purged > 0 { logger.info("expired idempotency keys purged", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("purging idempotency keys failed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
