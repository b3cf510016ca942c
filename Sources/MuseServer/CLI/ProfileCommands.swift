import ArgumentParser
import MuseCore
import MuseHTTP
import MuseInfra
import ServiceLifecycle

/// What one binary adds to the shared stack: its name, its config keys, its tables, and the
/// parts it builds on the opened stores (its `/v1` check, routes and services of its own).
public protocol ServerProfile {
    /// The binary's name, as logs and commands show it.
    static var label: String { get }
    /// Config keys only this binary reads, checked like the shared ones (`MuseConfig.profile`).
    static var configKeys: [ConfigKeySpec] { get }
    /// The profile's own tables, migrated after the shared schema wherever the stores are opened.
    static var migrations: [SQLiteMigrationTrack] { get }
    /// Builds the profile's parts on the runtime and the shared stack's stores and settings.
    static func parts(runtime: Runtime, shared: SharedStack) async throws -> ProfileParts
}

/// What the assembly has built that a profile's parts may use.
public struct SharedStack: Sendable {
    /// The opened stores, the profile's tables migrated.
    public let stores: EmbeddedStores
    /// The generated images.
    public let images: any BlobStore
    /// The settings a config reload changes (read them on each use).
    public let settings: LiveSettings
}

extension ServerProfile {
    public static var configKeys: [ConfigKeySpec] { [] }
    public static var migrations: [SQLiteMigrationTrack] { [] }
}

/// What a profile hands the assembly.
public struct ProfileParts {
    /// The `/v1` group's head filters: who may call.
    public var apiFilters: [any HeadFilter]
    /// Routes of its own, registered on the `/v1` group (behind `apiFilters`).
    public var apiRoutes: (RouteGroup) -> Void
    /// Background services of its own; they start before, and stop after, the HTTP server.
    public var services: [any Service]
    /// What its routes add to `openapi.yaml` (`OpenAPIOverlay`), served merged at `/v1/openapi.yaml`.
    public var openAPIOverlay: [UInt8]?

    public init(
        apiFilters: [any HeadFilter], apiRoutes: @escaping (RouteGroup) -> Void = { _ in }, services: [any Service] = [], openAPIOverlay: [UInt8]? = nil
    ) {
        self.apiFilters = apiFilters
        self.apiRoutes = apiRoutes
        self.services = services
        self.openAPIOverlay = openAPIOverlay
    }
}

/// `<binary> serve`: the shared stack with the profile's parts, until SIGTERM.
public struct ServeCommand<Profile: ServerProfile>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server (the default).")
    }

    @OptionGroup var options: ServeOptions

    public init() {}

    public func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(profileKeys: Profile.configKeys), label: Profile.label)
        try await ServerAssembly(runtime: runtime, profile: Profile.self).run(runtime)
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
        let runtime = Runtime(config: try await options.loadConfig(profileKeys: Profile.configKeys), label: Profile.label)
        print(try await ServerAssembly(runtime: runtime, profile: Profile.self).router.table, terminator: "")
    }
}
