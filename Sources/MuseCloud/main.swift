import ArgumentParser
import MuseCore
import MuseHTTP
import MuseInfra
import MuseServer

/// `muse-cloud`: the Muse server for public users and partner platforms.
struct MuseCloud: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-cloud",
        abstract: "Muse image generation backend (cloud profile).",
        subcommands: [Serve.self, MigrateCommand.self, ModelsCommand.self, KeysCommand.self, RoutesCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// `muse-cloud serve`: the services this binary runs.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (the default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-cloud")
        try await ServerAssembly(runtime: runtime, apiFilters: cloudAPIFilters).run(runtime)
    }
}

/// `muse-cloud routes`: the route table, each route with the group that guards it.
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "Print every route and the group (access check) it belongs to.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-cloud")
        print(try await ServerAssembly(runtime: runtime, apiFilters: cloudAPIFilters).router.table, terminator: "")
    }
}

/// What muse-cloud adds to the shared stack: `/v1` callers are API keys, kept in its database.
func cloudAPIFilters(_ stores: EmbeddedStores) -> [any HeadFilter] {
    [CloudSecurityFilter(keys: APIKeyService(store: SQLiteAPIKeyStore(database: stores.database)))]
}

await CommandEntry.run(MuseCloud.self)
