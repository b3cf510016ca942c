import ArgumentParser
import MuseCore
import MuseHTTP

/// `muse-cloud`: the Muse server for public users and partner platforms.
struct MuseCloud: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-cloud",
        abstract: "Muse image generation backend (cloud profile).",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )
}

/// `muse-cloud serve`: the services this binary runs.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (the default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        let runtime = Runtime(config: try await options.loadConfig(), label: "muse-cloud")

        let router = Router()
        OperationsController(readiness: runtime.readiness, registry: runtime.metricsRegistry).register(on: router)

        let server = runtime.httpServer(router: router, profileFilters: [CloudSecurityFilter()])

        try await runtime.run(services: [server])
    }
}

await CommandEntry.run(MuseCloud.self)
