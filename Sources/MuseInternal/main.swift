import ArgumentParser
import MuseCurl
import MuseHTTP
import MuseInfra
import MuseServer

/// `muse-internal`: the Muse server for a company's own staff and teams = the shared stack +
/// company SSO (JWTs from the IdP, verified against its JWKS), team service keys and `/v1/me`.
struct MuseInternal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muse-internal",
        abstract: "Muse image generation backend (internal profile).",
        subcommands: [
            ServeCommand<Internal>.self, MigrateCommand<Internal>.self, ModelsCommand<Internal>.self, RoutesCommand<Internal>.self, DevTokenCommand.self,
        ],
        defaultSubcommand: ServeCommand<Internal>.self
    )
}

/// What muse-internal adds to the shared stack: its `sso.*` keys, the SSO check on `/v1`, the
/// JWKS refresher, `/v1/me`, team keys and the community.
enum Internal: ServerProfile {
    static let label = "muse-internal"
    static let configKeys = SSOSettings.keys
    static let migrations = [InternalMigrations.track]

    static func parts(runtime: Runtime, shared: SharedStack) async throws -> ProfileParts {
        let settings = try SSOSettings(runtime.config.profile)
        let keys = SSOKeys()
        let source = JWKSSource(settings: settings, keys: keys, client: CurlHTTPClient(), pool: runtime.outboundHTTPPool, logger: runtime.logger)
        try await source.start()
        if settings.devKey {
            let key = try DevKey.loadOrCreate(dataDir: runtime.config.dataDir)
            await keys.replace(source: "dev", with: [DevKey.kid: try await DevKey.verificationKey(key)])
            runtime.logger.notice("SSO development key on: `muse-internal dev-token --user NAME` signs tokens it accepts")
        }
        if await keys.count == 0 && settings.jwksURL.isEmpty {
            runtime.logger.warning("no SSO keys: set sso.jwks_file or sso.jwks_url; every /v1 call is refused")
        }
        let verifier = TokenVerifier(settings: settings, keys: keys, refresh: { await source.unknownKid() })
        let teamKeys = TeamKeyService(store: SQLiteTeamKeyStore(database: shared.stores.database))
        return ProfileParts(
            apiFilters: [SSOSecurityFilter(verifier: verifier, teamKeys: teamKeys)],
            apiRoutes: { api in
                MeController(settings: shared.settings).register(on: api)
                TeamKeysController(service: teamKeys).register(on: api)
                CommunityController(
                    service: CommunityService(store: SQLiteCommunityStore(database: shared.stores.database), tasks: shared.stores.tasks),
                    images: shared.images
                ).register(on: api)
            },
            services: [source], openAPIOverlay: PackageResources.openapi_internal_yaml)
    }
}

await CommandEntry.run(MuseInternal.self)
