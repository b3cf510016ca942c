import ArgumentParser
import MuseCore
import MuseHTTP
import MuseInfra
import MuseServer

/// `muse-internal`: the Muse server for a company's own staff and teams.
struct MuseInternal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-internal",
        abstract: "Muse image generation backend (internal profile).",
        subcommands: [Serve.self, MigrateCommand.self, ModelsCommand.self, RoutesCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// `muse-internal serve`: the services this binary runs.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (the default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-internal")
        try await ServerAssembly(runtime: runtime, apiFilters: internalAPIFilters).run(runtime)
    }
}

/// `muse-internal routes`: the route table, each route with the group that guards it.
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "Print every route and the group (access check) it belongs to.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-internal")
        print(try await ServerAssembly(runtime: runtime, apiFilters: internalAPIFilters).router.table, terminator: "")
    }
}

/// What muse-internal adds to the shared stack: its `/v1` check (company SSO, not landed yet:
/// it refuses every caller, so the routes exist but none can be reached).
func internalAPIFilters(_ stores: EmbeddedStores) -> [any HeadFilter] {
    [InternalSecurityFilter()]
}

await CommandEntry.run(MuseInternal.self)
