import ArgumentParser
import MuseCore
import MuseHTTP

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
        let cloud = try await CloudAssembly(runtime: runtime)
        // Listed last, the server stops first on SIGTERM: /readyz turns 503 while the rest still runs.
        try await runtime.run(services: cloud.services + [runtime.httpServer(router: cloud.router)])
    }
}

/// `muse-cloud routes`: the route table, each route with the group that guards it.
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "Print every route and the group (access check) it belongs to.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-cloud")
        print(try await CloudAssembly(runtime: runtime).router.table, terminator: "")
    }
}

await CommandEntry.run(MuseCloud.self)
