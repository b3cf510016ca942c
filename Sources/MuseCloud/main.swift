import ArgumentParser
import MuseHTTP
import MuseInfra
import MuseServer

/// `muse-cloud`: the Muse server for public users and partner platforms = the shared stack +
/// API keys (kept in its database, created with `keys create`).
struct MuseCloud: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-cloud",
        abstract: "Muse image generation backend (cloud profile).",
        subcommands: [ServeCommand<Cloud>.self, MigrateCommand<Cloud>.self, ModelsCommand<Cloud>.self, KeysCommand.self, RoutesCommand<Cloud>.self],
        defaultSubcommand: ServeCommand<Cloud>.self
    )
}

/// What muse-cloud adds to the shared stack: `/v1` callers are API keys.
enum Cloud: ServerProfile {
    static let label = "muse-cloud"
    static let migrations = [APIKeyMigrations.track]

    static func parts(runtime: Runtime, shared: SharedStack) -> ProfileParts {
        ProfileParts(apiFilters: [CloudSecurityFilter(keys: APIKeyService(store: SQLiteAPIKeyStore(database: shared.stores.database)))])
    }
}

await CommandEntry.run(MuseCloud.self)
