import ArgumentParser
import MuseHTTP
import MuseInfra

/// What one binary adds to the shared stack: its name, its `/v1` check, its own tables.
public protocol ServerProfile {
    /// The binary's name, as logs and commands show it.
    static var label: String { get }
    /// The `/v1` group's head filters, built on the opened stores.
    static func apiFilters(_ stores: EmbeddedStores) -> [any HeadFilter]
    /// The profile's own tables, migrated after the shared schema wherever the stores are opened.
    static var migrations: [SQLiteMigrationTrack] { get }
}

extension ServerProfile {
    public static var migrations: [SQLiteMigrationTrack] { [] }
}

/// `<binary> serve`: the shared stack with the profile's parts, until SIGTERM.
public struct ServeCommand<Profile: ServerProfile>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server (the default).")
    }

    @OptionGroup var options: ServeOptions

    public init() {}

    public func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: Profile.label)
        try await ServerAssembly(runtime: runtime, apiFilters: Profile.apiFilters, migrations: Profile.migrations).run(runtime)
    }
}

/// `<binary> routes`: the route table, each route with the group that guards it.
public struct RoutesCommand<Profile: ServerProfile>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "routes", abstract: "Print every route and the group (access check) it belongs to.")
    }

    @OptionGroup var options: ConfigOptions

    public init() {}

    public func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: Profile.label)
        print(try await ServerAssembly(runtime: runtime, apiFilters: Profile.apiFilters, migrations: Profile.migrations).router.table, terminator: "")
    }
}
