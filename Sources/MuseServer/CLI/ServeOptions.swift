import ArgumentParser
import Configuration
import Foundation
import MuseCore
import MuseInfra

/// `--config` and `--data-dir`, which every command that touches the stores takes (docs/API.md, Command line).
public struct ConfigOptions: ParsableArguments {
    @Option(help: "YAML config file; without it the embedded default runs.")
    public var config: String?

    @Option(name: .customLong("data-dir"), help: "Directory for the embedded default's database and files.")
    public var dataDir: String?

    public init() {}

    /// The checked config, or exit 78 after one line on stderr naming the key.
    public func loadConfig(flags extra: [String: ConfigContent] = [:], profileKeys: [ConfigKeySpec] = []) async throws -> MuseConfig {
        var flags = extra
        if let dataDir { flags["data_dir"] = .string(dataDir) }
        do {
            return try await ConfigLoader(file: config, flags: flags, profileKeys: profileKeys).load()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

/// The flags of `<binary> serve`; they override every other config source.
public struct ServeOptions: ParsableArguments {
    @OptionGroup public var configOptions: ConfigOptions

    @Option(help: "Address to listen on.")
    public var host: String?

    @Option(help: "Port to listen on.")
    public var port: Int?

    public init() {}

    public func loadConfig(profileKeys: [ConfigKeySpec] = []) async throws -> MuseConfig {
        var flags: [String: ConfigContent] = [:]
        if let host { flags["server.host"] = .string(host) }
        if let port { flags["server.port"] = .int(port) }
        return try await configOptions.loadConfig(flags: flags, profileKeys: profileKeys)
    }
}
