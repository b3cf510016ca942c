import ArgumentParser
import Foundation
import MuseServer

/// `muse-internal dev-token --user NAME [--team NAME]…`: a token signed with the development key,
/// for trying muse-internal without the company IdP. Refused where `sso.dev_key` is off.
struct DevTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-token", abstract: "Print a development SSO token (only where the config enables sso.dev_key).")

    @Option(help: "The user id (the token's id claim).")
    var user: String

    @Option(name: .customLong("team"), help: "A team the user belongs to (repeatable).")
    var teams: [String] = []

    @Option(name: .customLong("admin-team"), help: "A team the user administers (repeatable; also makes them a member).")
    var adminTeams: [String] = []

    @Option(help: "Lifetime in hours.")
    var hours: Int = 12

    @OptionGroup var options: ConfigOptions

    func validate() throws {
        guard TokenVerifier.isSafeID(user) else { throw ValidationError("--user: 1 to 128 of A-Z a-z 0-9 . _ @ -") }
        guard (teams + adminTeams).allSatisfy(TokenVerifier.isSafeID) else { throw ValidationError("--team: 1 to 128 of A-Z a-z 0-9 . _ @ -") }
        guard (1...720).contains(hours) else { throw ValidationError("--hours: 1 to 720") }
    }

    func run() async throws {
        let config = try await options.loadConfig(profileKeys: Internal.configKeys)
        let settings = try SSOSettings(config.profile)
        guard settings.devKey else {
            FileHandle.standardError.write(Data("no development key: this config sets sso.dev_key to false (tokens come from the company IdP)\n".utf8))
            throw ExitCode(1)
        }
        let key = try DevKey.loadOrCreate(dataDir: config.dataDir)
        print(
            try await DevKey.sign(
                user: user, teams: Array(Set(teams + adminTeams)).sorted(), adminTeams: adminTeams, settings: settings, key: key,
                lifetime: TimeInterval(hours) * 3600))
    }
}
