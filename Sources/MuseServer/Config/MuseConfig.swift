import Foundation
import Logging
import MuseCore
import MuseHTTP
import MuseInfra
import MuseWorkerProtocol
import NIOCore

/// The checked configuration a binary runs with.
public struct MuseConfig: Sendable {
    public var server: HTTPServerConfiguration
    /// 0 means one event loop per core.
    public var eventLoopThreads: Int
    public var logLevel: Logger.Level
    public var accessLog: Bool
    public var dataDir: String
    /// The catalogue file imported at first start (relative to the working directory); empty: the built-in one.
    public var catalogFile: String
    /// The training definitions (dataset categories, the training form) read at start (relative to
    /// the working directory); empty: the built-in ones.
    public var trainingFile: String
    /// Worker reservations, tries per job, the largest checkpoint or LoRA upload.
    public var training: TrainingSettings
    /// What one dataset image and one dataset may hold.
    public var datasets: DatasetLimits
    /// The OpenAPI document served at `GET /v1/openapi.yaml` (relative to the working directory); empty: the built-in one.
    public var openAPIFile: String
    /// The part an operator may change without a restart (reloaded from the `--config` file).
    public var dynamic: DynamicSettings
    /// The shared worker token; empty: `DATA_DIR/worker-token`.
    public var workerToken: String
    /// The base URL workers call back on; empty: `http://server.host:server.port`.
    public var workerCallbackURL: String
    public var maxAttempts: Int
    /// How long a dispatched attempt may take before its lease ends and it is queued again.
    public var lease: TimeInterval
    /// Poll a worker about an attempt after this long without news (the polling fallback).
    public var pollAfter: TimeInterval
    /// The embedded database's busy timeout and durability.
    public var storage: SQLiteSettings
    /// Where workers may register (their URL's host).
    public var workerURLs: WorkerURLPolicy
    /// Webhook retries, timeouts and limits.
    public var webhooks: WebhookDispatcher.Settings
    /// Redeliveries a tenant may ask for per minute.
    public var redeliveriesPerMinute: Int
    /// Which webhook URLs may be called.
    public var webhookTargets: WebhookTargetPolicy
    /// A keep-alive comment on a quiet `/events` stream after this long.
    public var events: TaskEventFeed.Settings
    /// How long an `Idempotency-Key` is remembered.
    public var idempotencyTTL: TimeInterval
    /// How often the `--config` file is checked for changes; 0: never.
    public var reloadInterval: TimeInterval
    /// The profile's own keys (`ServerProfile.configKeys`), checked.
    public var profile = ProfileSettings(values: [:])
    /// Where this config came from, so that a reload reads the same sources.
    public var source: ConfigLoader? = nil
}

/// The checked values of a profile's own config keys. Reading a key the profile did not
/// declare is a programming error, caught by its first test.
public struct ProfileSettings: Sendable {
    enum Value: Sendable {
        case string(String)
        case int(Int)
        case bool(Bool)
    }

    let values: [String: Value]

    public func string(_ key: String) -> String {
        guard case .string(let value)? = values[key] else { preconditionFailure("\(key) is not a declared string key") }
        return value
    }

    public func int(_ key: String) -> Int {
        guard case .int(let value)? = values[key] else { preconditionFailure("\(key) is not a declared integer key") }
        return value
    }

    public func bool(_ key: String) -> Bool {
        guard case .bool(let value)? = values[key] else { preconditionFailure("\(key) is not a declared boolean key") }
        return value
    }
}

/// The training lane's config (`training.*`).
public struct TrainingSettings: Sendable {
    /// Worker id → the tenants or teams it is reserved for.
    public var reservedWorkers: [String: Set<String>]
    public var maxAttempts: Int
    public var maxArtifactBytes: Int
    public var maxUnfinishedPerTenant: Int

    /// `worker-a=acme, worker-b=design|research`: each worker id once, its owners separated by `|`.
    static func parseReservations(_ text: String) -> Result<[String: Set<String>], ConfigError> {
        var reservations: [String: Set<String>] = [:]
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let owners = Set((parts.count == 2 ? parts[1] : "").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            guard parts.count == 2, WorkerRegistration.isWorkerID(parts[0]), !owners.isEmpty, reservations[parts[0]] == nil else {
                return .failure(ConfigError(key: "training.reserved_workers", message: "\(entry): not worker-id=owner|owner, each worker once"))
            }
            reservations[parts[0]] = owners
        }
        return .success(reservations)
    }
}
