import Configuration
import Foundation
import MuseHTTP
import Testing
import Yams

@testable import MuseCore
@testable import MuseInfra
@testable import MuseServer

/// Config: the embedded default equals config/local.yaml; profiles load; wrong keys and values fail with the key named.
@Suite struct ConfigLoaderTests {
    static let configDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config")

    func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muse-config-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func error(_ loader: ConfigLoader) async -> ConfigError? {
        do {
            _ = try await loader.load()
            return nil
        } catch {
            return error
        }
    }

    @Test func embeddedDefaultIsExactlyLocalYaml() throws {
        let text = try String(contentsOf: Self.configDir.appendingPathComponent("local.yaml"), encoding: .utf8)
        var fileValues: [String: String] = [:]
        func walk(_ node: Node, _ prefix: String) {
            if let mapping = node.mapping {
                for (key, value) in mapping { walk(value, prefix.isEmpty ? key.string! : "\(prefix).\(key.string!)") }
            } else {
                fileValues[prefix] = node.string
            }
        }
        walk(try Yams.compose(yaml: text)!, "")
        var embedded: [String: String] = [:]
        for spec in ConfigSchema.keys {
            switch spec.embeddedDefault {
            case .int(let v): embedded[spec.key] = String(v)
            case .string(let v): embedded[spec.key] = v
            case .bool(let v): embedded[spec.key] = String(v)
            default: Issue.record("unexpected type for \(spec.key)")
            }
        }
        #expect(fileValues == embedded)
    }

    /// (config/internal.yaml has muse-internal's own `sso.*` keys: `SSOTests` loads it with that binary.)
    @Test(arguments: ["local.yaml", "cloud.yaml"])
    func everyProfileLoads(_ name: String) async throws {
        let config = try await ConfigLoader(file: Self.configDir.appendingPathComponent(name).path, environment: [:]).load()
        #expect(config.server.port == 8080)
        #expect(config.server.maxBodyBytes == 1 << 20)
    }

    @Test func noFileRunsTheEmbeddedDefault() async throws {
        let config = try await ConfigLoader(file: nil, environment: [:]).load()
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.server.requestTimeout == .seconds(30))
        #expect(config.dataDir == "./data")
        #expect(config.accessLog)
    }

    @Test func precedenceIsFlagsThenEnvironmentThenFileThenDefault() async throws {
        let file = try write("server:\n  port: 7000\n  max_connections: 5\nlog:\n  level: debug\n")
        let config = try await ConfigLoader(
            file: file,
            environment: ["MUSE_SERVER_PORT": "7100", "MUSE_LOG_LEVEL": "warning", "PATH": "/bin"],
            flags: ["server.port": .int(7200)]
        ).load()
        #expect(config.server.port == 7200)
        #expect(config.logLevel == .warning)
        #expect(config.server.maxConnections == 5)
        #expect(config.server.idleTimeout == .seconds(60))
    }

    @Test func unknownFileKeyIsNamed() async throws {
        let file = try write("server:\n  prot: 9000\n")
        #expect(await error(ConfigLoader(file: file, environment: [:]))?.description == "config: server.prot: unknown key")
        let section = try write("sever:\n  port: 9000\n")
        #expect(await error(ConfigLoader(file: section, environment: [:]))?.key == "sever")
    }

    @Test func wrongTypeIsNamed() async throws {
        let file = try write("server:\n  port: eighty\n")
        #expect(await error(ConfigLoader(file: file, environment: [:]))?.description == "config: server.port: must be an integer")
    }

    @Test func outOfRangeIsNamed() async throws {
        let file = try write("server:\n  max_body_bytes: 0\n")
        #expect(await error(ConfigLoader(file: file, environment: [:]))?.key == "server.max_body_bytes")
    }

    @Test func badEnumIsNamed() async throws {
        let loader = ConfigLoader(file: nil, environment: ["MUSE_LOG_LEVEL": "loud"])
        #expect(await error(loader)?.key == "log.level")
    }

    @Test func unknownEnvironmentOverrideIsNamed() async throws {
        let loader = ConfigLoader(file: nil, environment: ["MUSE_SERVER_PROT": "1"])
        #expect(await error(loader)?.key == "MUSE_SERVER_PROT")
    }

    @Test func malformedYamlIsOneLine() async throws {
        let file = try write("server: [1\n")
        let description = await error(ConfigLoader(file: file, environment: [:]))?.description ?? ""
        #expect(description.hasPrefix("config: \(file): not valid YAML"))
        #expect(!description.contains("\n"))
    }

    @Test func missingFileIsNamed() async throws {
        #expect(await error(ConfigLoader(file: "/nonexistent/muse.yaml", environment: [:]))?.key == "/nonexistent/muse.yaml")
    }
}
