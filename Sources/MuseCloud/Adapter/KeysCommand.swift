import ArgumentParser
import MuseCore
import MuseInfra
import MuseServer

/// `muse-cloud keys create --tenant NAME`: a new API key, its secret alone on the last line.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an API key for a tenant; prints the secret once.")

        @Option(help: "The tenant the key acts for.")
        var tenant: String

        @OptionGroup var options: ConfigOptions

        func validate() throws {
            guard !tenant.isEmpty, tenant.count <= 100, tenant.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("--tenant: 1 to 100 letters, digits, '-', '_' or '.'")
            }
        }

        func run() async throws {
            let (record, secret) = try await withStores(options, profile: Cloud.self) { _, stores in
                try await APIKeyService(store: SQLiteAPIKeyStore(database: stores.database)).create(tenant: tenant)
            }
            print("created \(record.id) for tenant \(record.tenant); the secret is shown only now:")
            print(secret)
        }
    }
}
