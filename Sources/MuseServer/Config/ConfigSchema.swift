import Configuration
import Foundation
import MuseCore
import MuseInfra

/// One config key: its dotted name, its type and range, and its value on the embedded default.
/// The shared keys are `ConfigSchema.keys`; a profile adds its own (`ServerProfile.configKeys`).
public struct ConfigKeySpec: Sendable {
    enum Kind: Sendable {
        case int(ClosedRange<Int>)
        case string(allowed: [String]?)
        case bool
    }

    let key: String
    let kind: Kind
    let embeddedDefault: ConfigContent

    public static func string(_ key: String, default value: String, allowed: [String]? = nil) -> ConfigKeySpec {
        ConfigKeySpec(key: key, kind: .string(allowed: allowed), embeddedDefault: .string(value))
    }

    public static func int(_ key: String, _ range: ClosedRange<Int>, default value: Int) -> ConfigKeySpec {
        ConfigKeySpec(key: key, kind: .int(range), embeddedDefault: .int(value))
    }

    public static func bool(_ key: String, default value: Bool) -> ConfigKeySpec {
        ConfigKeySpec(key: key, kind: .bool, embeddedDefault: .bool(value))
    }

    /// The environment variable that overrides this key: `server.port` → `MUSE_SERVER_PORT`.
    var environmentName: String {
        "MUSE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

/// Every key Muse reads. The embedded default is these values; `config/local.yaml` spells
/// them out with comments (a test keeps the two equal).
enum ConfigSchema {
    static let keys: [ConfigKeySpec] = [
        .init(key: "server.host", kind: .string(allowed: nil), embeddedDefault: .string("127.0.0.1")),
        .init(key: "server.port", kind: .int(0...65535), embeddedDefault: .int(8080)),
        .init(key: "server.event_loop_threads", kind: .int(0...256), embeddedDefault: .int(0)),
        .init(key: "server.max_body_bytes", kind: .int(1...(1 << 30)), embeddedDefault: .int(1_048_576)),
        .init(key: "server.max_header_bytes", kind: .int(1024...(1 << 20)), embeddedDefault: .int(32_768)),
        .init(key: "server.max_connections", kind: .int(1...1_000_000), embeddedDefault: .int(10_000)),
        .init(key: "server.max_streaming_bodies", kind: .int(1...100_000), embeddedDefault: .int(256)),
        .init(key: "server.max_streaming_bodies_per_caller", kind: .int(1...100_000), embeddedDefault: .int(16)),
        .init(key: "server.idle_timeout_ms", kind: .int(100...3_600_000), embeddedDefault: .int(60_000)),
        .init(key: "server.request_timeout_ms", kind: .int(100...3_600_000), embeddedDefault: .int(30_000)),
        .init(key: "server.drain_delay_ms", kind: .int(0...600_000), embeddedDefault: .int(0)),
        .init(key: "server.shutdown_deadline_ms", kind: .int(0...600_000), embeddedDefault: .int(10_000)),
        .init(
            key: "log.level", kind: .string(allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"]), embeddedDefault: .string("info")),
        .init(key: "log.access", kind: .bool, embeddedDefault: .bool(true)),
        .init(key: "data_dir", kind: .string(allowed: nil), embeddedDefault: .string("./data")),
        .init(key: "worker.token", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "worker.callback_url", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "worker.max_attempts", kind: .int(1...20), embeddedDefault: .int(3)),
        .init(key: "worker.lease_ms", kind: .int(1000...86_400_000), embeddedDefault: .int(600_000)),
        .init(key: "storage.busy_timeout_ms", kind: .int(1...600_000), embeddedDefault: .int(5000)),
        .init(key: "storage.synchronous", kind: .string(allowed: ["full", "normal"]), embeddedDefault: .string("full")),
        .init(key: "worker.allowed_hosts", kind: .string(allowed: nil), embeddedDefault: .string("127.0.0.0/8, ::1, localhost")),
        .init(key: "worker.poll_after_ms", kind: .int(100...3_600_000), embeddedDefault: .int(10_000)),
        .init(key: "config_reload_interval_ms", kind: .int(0...3_600_000), embeddedDefault: .int(1000)),
        .init(key: "scheduling.offpeak_start_hour", kind: .int(0...23), embeddedDefault: .int(1)),
        .init(key: "scheduling.offpeak_end_hour", kind: .int(0...23), embeddedDefault: .int(6)),
        .init(key: "scheduling.model_affinity", kind: .bool, embeddedDefault: .bool(true)),
        .init(key: "scheduling.max_affinity_wait_ms", kind: .int(0...3_600_000), embeddedDefault: .int(10_000)),
        .init(key: "api.openapi_file", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "catalog.file", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "generation.max_prompt_chars", kind: .int(1...100_000), embeddedDefault: .int(2000)),
        .init(key: "generation.max_steps", kind: .int(1...1000), embeddedDefault: .int(150)),
        .init(key: "webhooks.retry_schedule_ms", kind: .string(allowed: nil), embeddedDefault: .string("10000,60000,300000,1200000,3600000")),
        .init(key: "webhooks.timeout_ms", kind: .int(100...120_000), embeddedDefault: .int(10_000)),
        .init(key: "webhooks.concurrency", kind: .int(1...1024), embeddedDefault: .int(32)),
        .init(key: "webhooks.per_host_concurrency", kind: .int(1...1024), embeddedDefault: .int(4)),
        .init(key: "webhooks.allow_loopback", kind: .bool, embeddedDefault: .bool(true)),
        .init(key: "webhooks.allowed_hosts", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "webhooks.redeliveries_per_minute", kind: .int(1...10_000), embeddedDefault: .int(20)),
        .init(key: "webhooks.allowed_ports", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "events.keep_alive_ms", kind: .int(100...600_000), embeddedDefault: .int(15_000)),
        .init(key: "events.max_lifetime_ms", kind: .int(1000...86_400_000), embeddedDefault: .int(1_800_000)),
        .init(key: "events.max_streams_per_tenant", kind: .int(1...100_000), embeddedDefault: .int(16)),
        .init(key: "events.write_timeout_ms", kind: .int(100...600_000), embeddedDefault: .int(30_000)),
        .init(key: "idempotency.ttl_hours", kind: .int(1...720), embeddedDefault: .int(24)),
        .init(key: "generation.max_num_images", kind: .int(1...8), embeddedDefault: .int(8)),
        .init(key: "training.file", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "training.reserved_workers", kind: .string(allowed: nil), embeddedDefault: .string("")),
        .init(key: "training.max_attempts", kind: .int(1...20), embeddedDefault: .int(3)),
        .init(key: "training.max_artifact_bytes", kind: .int(1024...(4 << 30)), embeddedDefault: .int(268_435_456)),
        .init(key: "datasets.max_image_bytes", kind: .int(1024...(1 << 30)), embeddedDefault: .int(20_971_520)),
        .init(key: "datasets.max_image_pixels", kind: .int(64...1_000_000_000), embeddedDefault: .int(36_000_000)),
        .init(key: "datasets.max_image_side", kind: .int(8...65_535), embeddedDefault: .int(8192)),
        .init(key: "datasets.max_images", kind: .int(1...1_000_000), embeddedDefault: .int(1000)),
        .init(key: "datasets.max_per_tenant", kind: .int(1...1_000_000), embeddedDefault: .int(200)),
        .init(key: "training.max_unfinished_per_tenant", kind: .int(1...100_000), embeddedDefault: .int(20)),
    ]

    /// Keys applied while running when the `--config` file changes; the others need a restart.
    static let dynamicPrefixes = ["generation.", "scheduling."]

    static let byKey: [String: ConfigKeySpec] = Dictionary(uniqueKeysWithValues: keys.map { ($0.key, $0) })
}
