import ArgumentParser
import MuseCore
import MuseHTTP

/// `muse-internal`: the Muse server for a company's own staff and teams.
struct MuseInternal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-internal",
        abstract: "Muse image generation backend (internal profile).",
        subcommands: [Serve.self, MigrateCommand.self, ModelsCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// `muse-internal serve`: the services this binary runs.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (the default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-internal")

        let router = Router()
        OperationsController(readiness: runtime.readiness, registry: runtime.metricsRegistry).register(on: router.group("", name: "public"))
        // The API group exists with its check before it has routes: nothing can be added to it unguarded.
        _ = router.group("/v1", name: "api", filters: [InternalSecurityFilter()])

        let server = runtime.httpServer(router: router)

        try await runtime.run(services: [server])
    }
}

await CommandEntry.run(MuseInternal.self)
