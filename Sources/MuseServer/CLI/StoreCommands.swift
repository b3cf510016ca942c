import ArgumentParser
import Foundation
import MuseCore
import MuseInfra
import NIOPosix

/// Opens the configured stores (with the profile's keys and tables) for a one-shot command, runs `body`, and closes the pool.
public func withStores<Profile: ServerProfile, T>(
    _ options: ConfigOptions, profile: Profile.Type, _ body: (MuseConfig, EmbeddedStores) async throws -> T
) async throws -> T {
    let tracks = Profile.migrations
    let config = try await options.loadConfig(profileKeys: Profile.configKeys)
    let threads = NIOThreadPool(numberOfThreads: 1)
    threads.start()
    do {
        let stores = try await EmbeddedStores.open(dataDir: config.dataDir, pool: BlockingPool(pool: threads), settings: config.storage, tracks: tracks)
        let result = try await body(config, stores)
        try await threads.shutdownGracefully()
        return result
    } catch {
        try? await threads.shutdownGracefully()
        throw error
    }
}

/// `<binary> migrate`: brings the database schema, the profile's tables included, up to date
/// (serve does it too at start-up).
public struct MigrateCommand<Profile: ServerProfile>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "migrate", abstract: "Apply database migrations.")
    }

    @OptionGroup var options: ConfigOptions

    public init() {}

    public func run() async throws {
        // Opening the stores migrates them.
        try await withStores(options, profile: Profile.self) { config, _ in print("database at \(config.dataDir) is up to date") }
    }
}

/// `<binary> models import FILE`: inserts or updates the catalogue entries of a YAML file.
public struct ModelsCommand<Profile: ServerProfile>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "models", abstract: "Manage the model catalogue.", subcommands: [Import.self])
    }

    public init() {}

    public struct Import: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "import", abstract: "Import models from a YAML catalogue file.")
        }

        @Argument(help: "The catalogue file (the format of config/models.yaml).")
        var file: String

        @OptionGroup var options: ConfigOptions

        public init() {}

        public func run() async throws {
            let count = try await withStores(options, profile: Profile.self) { _, stores in
                try await CatalogService(store: stores.models).importModels(CatalogFile.read(file))
            }
            print("imported \(count) models from \(file)")
        }
    }
}
