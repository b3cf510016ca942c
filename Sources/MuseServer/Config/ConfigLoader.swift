import Configuration
import Foundation
import Logging
import MuseCore
import MuseHTTP
import MuseInfra
import NIOCore
import SystemPackage
import Yams

/// Reads the config in priority order: command-line flags, `MUSE_…` environment variables,
/// the `--config` YAML file, then the embedded default. Unknown keys and bad values are errors.
public struct ConfigLoader: Sendable {
    public var file: String?
    public var environment: [String: String]
    /// Values from command-line flags, by dotted key.
    public var flags: [String: ConfigContent]
    /// The profile's own keys, read and checked like the shared ones (`MuseConfig.profile`).
    public var profileKeys: [ConfigKeySpec]

    public init(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment, flags: [String: ConfigContent] = [:],
        profileKeys: [ConfigKeySpec] = []
    ) {
        self.file = file
        self.environment = environment
        self.flags = flags
        self.profileKeys = profileKeys
    }

    private var allKeys: [ConfigKeySpec] { ConfigSchema.keys + profileKeys }

    public func load() async throws(ConfigError) -> MuseConfig {
        var providers: [any ConfigProvider] = [Self.memory("flags", flags), EnvironmentVariablesProvider(environmentVariables: try museEnvironment())]
        if let file {
            try checkFileKeys(file)
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigError(key: file, message: "cannot read: \(error)")
            }
        }
        providers.append(Self.memory("embedded default", Dictionary(uniqueKeysWithValues: allKeys.map { ($0.key, $0.embeddedDefault) })))
        let reader = ConfigReader(providers: providers)
        var config = try Self.build(reader)
        config.profile = try Self.profileSettings(reader, profileKeys)
        config.source = self
        return config
    }

    private static func memory(_ name: String, _ values: [String: ConfigContent]) -> InMemoryProvider {
        InMemoryProvider(
            name: name, values: Dictionary(uniqueKeysWithValues: values.map { (AbsoluteConfigKey(ConfigKey($0.key)), ConfigValue($0.value, isSecret: false)) }))
    }

    /// `MUSE_SERVER_PORT=9000` becomes `SERVER_PORT=9000`, the name the environment provider looks up.
    private func museEnvironment() throws(ConfigError) -> [String: String] {
        let known = Set(allKeys.map(\.environmentName))
        var result: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("MUSE_") {
            guard known.contains(name) else {
                throw ConfigError(key: name, message: "unknown environment override; known: \(known.sorted().joined(separator: ", "))")
            }
            result[String(name.dropFirst(5))] = value
        }
        return result
    }

    /// Every key in the file must be one Muse reads: a typo must not silently fall back to a default.
    private func checkFileKeys(_ path: String) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: path, message: "cannot read the file")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(key: path, message: "not valid YAML: \(String(describing: error).split(separator: "\n").joined(separator: " "))")
        }
        guard let node else { return }
        guard let mapping = node.mapping else { throw ConfigError(key: path, message: "the top level must be a mapping") }
        try Self.checkKeys(mapping, prefix: "", known: allKeys)
    }

    private static func checkKeys(_ mapping: Node.Mapping, prefix: String, known: [ConfigKeySpec]) throws(ConfigError) {
        for (keyNode, value) in mapping {
            let key = prefix + (keyNode.string ?? "?")
            if let nested = value.mapping {
                guard known.contains(where: { $0.key.hasPrefix(key + ".") }) else {
                    throw ConfigError(key: key, message: "unknown key")
                }
                try checkKeys(nested, prefix: key + ".", known: known)
            } else if !known.contains(where: { $0.key == key }) {
                throw ConfigError(key: key, message: "unknown key")
            }
        }
    }

    private static func build(_ reader: ConfigReader) throws(ConfigError) -> MuseConfig {
        var server = HTTPServerConfiguration()
        server.host = try string(reader, "server.host")
        server.port = try int(reader, "server.port")
        server.maxBodyBytes = try int(reader, "server.max_body_bytes")
        server.maxHeaderBytes = try int(reader, "server.max_header_bytes")
        server.maxConnections = try int(reader, "server.max_connections")
        server.maxStreamingBodies = try int(reader, "server.max_streaming_bodies")
        server.maxStreamingBodiesPerCaller = try int(reader, "server.max_streaming_bodies_per_caller")
        server.idleTimeout = .milliseconds(Int64(try int(reader, "server.idle_timeout_ms")))
        server.requestTimeout = .milliseconds(Int64(try int(reader, "server.request_timeout_ms")))
        server.drainDelay = .milliseconds(Int64(try int(reader, "server.drain_delay_ms")))
        server.shutdownDeadline = .milliseconds(Int64(try int(reader, "server.shutdown_deadline_ms")))
        var limits = GenerationLimits()
        limits.maxPromptChars = try int(reader, "generation.max_prompt_chars")
        limits.maxSteps = try int(reader, "generation.max_steps")
        limits.maxNumImages = try int(reader, "generation.max_num_images")
        return MuseConfig(
            server: server,
            eventLoopThreads: try int(reader, "server.event_loop_threads"),
            logLevel: Logger.Level(rawValue: try string(reader, "log.level")) ?? .info,
            accessLog: try bool(reader, "log.access"),
            dataDir: try string(reader, "data_dir"),
            catalogFile: try string(reader, "catalog.file"),
            trainingFile: try string(reader, "training.file"),
            training: TrainingSettings(
                reservedWorkers: try TrainingSettings.parseReservations(try string(reader, "training.reserved_workers")).get(),
                maxAttempts: try int(reader, "training.max_attempts"), maxArtifactBytes: try int(reader, "training.max_artifact_bytes"),
                maxUnfinishedPerTenant: try int(reader, "training.max_unfinished_per_tenant")
            ),
            datasets: DatasetLimits(
                maxImageBytes: try int(reader, "datasets.max_image_bytes"), maxImagePixels: try int(reader, "datasets.max_image_pixels"),
                maxImageSide: try int(reader, "datasets.max_image_side"), maxImagesPerDataset: try int(reader, "datasets.max_images"),
                maxDatasetsPerTenant: try int(reader, "datasets.max_per_tenant")
            ),
            openAPIFile: try string(reader, "api.openapi_file"),
            dynamic: DynamicSettings(
                limits: limits,
                offPeak: OffPeakWindow(startHour: try int(reader, "scheduling.offpeak_start_hour"), endHour: try int(reader, "scheduling.offpeak_end_hour")),
                modelAffinity: try bool(reader, "scheduling.model_affinity"),
                maxAffinityWait: Double(try int(reader, "scheduling.max_affinity_wait_ms")) / 1000
            ),
            workerToken: try string(reader, "worker.token"),
            workerCallbackURL: try string(reader, "worker.callback_url"),
            maxAttempts: try int(reader, "worker.max_attempts"),
            lease: Double(try int(reader, "worker.lease_ms")) / 1000,
            pollAfter: Double(try int(reader, "worker.poll_after_ms")) / 1000,
            storage: SQLiteSettings(
                busyTimeoutMilliseconds: Int32(try int(reader, "storage.busy_timeout_ms")), synchronousFull: try string(reader, "storage.synchronous") == "full"
            ),
            workerURLs: try WorkerURLPolicy.parse(try string(reader, "worker.allowed_hosts")).mapError {
                ConfigError(key: "worker.allowed_hosts", message: "\($0.entry): not a host name, *.suffix or CIDR")
            }.get(),
            webhooks: WebhookDispatcher.Settings(
                retrySchedule: try milliseconds(reader, "webhooks.retry_schedule_ms"),
                timeout: .milliseconds(Int64(try int(reader, "webhooks.timeout_ms"))),
                concurrency: try int(reader, "webhooks.concurrency"),
                perHost: try int(reader, "webhooks.per_host_concurrency")
            ),
            redeliveriesPerMinute: try int(reader, "webhooks.redeliveries_per_minute"),
            webhookTargets: WebhookTargetPolicy(
                allowLoopback: try bool(reader, "webhooks.allow_loopback"),
                allowedHosts: Set(
                    try string(reader, "webhooks.allowed_hosts").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter {
                        !$0.isEmpty
                    }),
                allowedPorts: try ports(reader, "webhooks.allowed_ports")
            ),
            events: TaskEventFeed.Settings(
                keepAlive: .milliseconds(Int64(try int(reader, "events.keep_alive_ms"))),
                maxLifetime: .milliseconds(Int64(try int(reader, "events.max_lifetime_ms"))),
                maxPerTenant: try int(reader, "events.max_streams_per_tenant"),
                writeTimeout: .milliseconds(Int64(try int(reader, "events.write_timeout_ms")))
            ),
            idempotencyTTL: Double(try int(reader, "idempotency.ttl_hours")) * 3600,
            reloadInterval: Double(try int(reader, "config_reload_interval_ms")) / 1000
        )
    }

    /// A comma-separated list of TCP ports.
    private static func ports(_ reader: ConfigReader, _ key: String) throws(ConfigError) -> Set<Int> {
        var ports: Set<Int> = []
        for item in try string(reader, key).split(separator: ",") {
            guard let port = Int(item.trimmingCharacters(in: .whitespaces)), (1...65535).contains(port) else {
                throw ConfigError(key: key, message: "\(item): not a port from 1 to 65535")
            }
            ports.insert(port)
        }
        return ports
    }

    private static func int(_ reader: ConfigReader, _ key: String) throws(ConfigError) -> Int {
        let value: Int
        do {
            value = try reader.requiredInt(forKey: ConfigKey(key))
        } catch {
            throw ConfigError(key: key, message: "must be an integer")
        }
        if case .int(let range) = ConfigSchema.byKey[key]?.kind, !range.contains(value) {
            throw ConfigError(key: key, message: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    private static func string(_ reader: ConfigReader, _ key: String) throws(ConfigError) -> String {
        let value: String
        do {
            value = try reader.requiredString(forKey: ConfigKey(key))
        } catch {
            throw ConfigError(key: key, message: "must be a string")
        }
        if case .string(let allowed?) = ConfigSchema.byKey[key]?.kind, !allowed.contains(value) {
            throw ConfigError(key: key, message: "must be one of \(allowed.joined(separator: ", ")), got \"\(value)\"")
        }
        return value
    }

    /// A comma-separated list of positive millisecond counts.
    private static func milliseconds(_ reader: ConfigReader, _ key: String) throws(ConfigError) -> [Duration] {
        let parts = try string(reader, key).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var durations: [Duration] = []
        for part in parts {
            guard let value = Int64(part), value > 0 else {
                throw ConfigError(key: key, message: "must be a comma-separated list of positive milliseconds, got \"\(part)\"")
            }
            durations.append(.milliseconds(value))
        }
        return durations
    }

    /// The profile's keys, each checked against its own spec.
    private static func profileSettings(_ reader: ConfigReader, _ keys: [ConfigKeySpec]) throws(ConfigError) -> ProfileSettings {
        var values: [String: ProfileSettings.Value] = [:]
        for spec in keys {
            switch spec.kind {
            case .int(let range):
                let value = try int(reader, spec.key)
                guard range.contains(value) else {
                    throw ConfigError(key: spec.key, message: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
                }
                values[spec.key] = .int(value)
            case .string(let allowed):
                let value = try string(reader, spec.key)
                if let allowed, !allowed.contains(value) {
                    throw ConfigError(key: spec.key, message: "must be one of \(allowed.joined(separator: ", ")), got \"\(value)\"")
                }
                values[spec.key] = .string(value)
            case .bool:
                values[spec.key] = .bool(try bool(reader, spec.key))
            }
        }
        return ProfileSettings(values: values)
    }

    private static func bool(_ reader: ConfigReader, _ key: String) throws(ConfigError) -> Bool {
        do {
            return try reader.requiredBool(forKey: ConfigKey(key))
        } catch {
            throw ConfigError(key: key, message: "must be true or false")
        }
    }
}
