import ArgumentParser
import MuseHTTP
import MuseInfra
import MuseServer

/// `muse-internal`: the Muse server for a company's own staff and teams = the shared stack +
/// its `/v1` check.
struct MuseInternal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-internal",
        abstract: "Muse image generation backend (internal profile).",
        subcommands: [ServeCommand<Internal>.self, MigrateCommand<Internal>.self, ModelsCommand.self, RoutesCommand<Internal>.self],
        defaultSubcommand: ServeCommand<Internal>.self
    )
}

/// What muse-internal adds to the shared stack: its `/v1` check (company SSO, not landed yet:
/// it refuses every caller, so the routes exist but none can be reached).
enum Internal: ServerProfile {
    static let label = "muse-internal"

    static func apiFilters(_ stores: EmbeddedStores) -> [any HeadFilter] {
        [InternalSecurityFilter()]
    }
}

await CommandEntry.run(MuseInternal.self)
