import Foundation
import Logging
import MuseCurl
import MuseInfra
import ServiceLifecycle
import Synchronization

/// Keeps `SSOKeys` filled: the JWKS file once at start-up, the JWKS URL at start-up and then on
/// the IdP's `Cache-Control: max-age` (else every 10 minutes), and again when a token names an
/// unknown `kid`, at most once a minute. A failed fetch keeps the keys already held: tokens
/// signed by them keep working while the IdP is down.
final class JWKSSource: Service, Sendable {
    let settings: SSOSettings
    let keys: SSOKeys
    let client: CurlHTTPClient
    let pool: BlockingPool
    let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var nextRefresh = Date.distantPast
        var lastForced = Date.distantPast
    }

    static let defaultRefresh: TimeInterval = 600
    static let retryAfterFailure: TimeInterval = 30
    static let unknownKidInterval: TimeInterval = 60
    static let maxBytes = 1 << 20

    init(settings: SSOSettings, keys: SSOKeys, client: CurlHTTPClient, pool: BlockingPool, logger: Logger) {
        self.settings = settings
        self.keys = keys
        self.client = client
        self.pool = pool
        self.logger = logger
    }

    /// The file (a bad one stops start-up) and a first fetch of the URL (a failure is logged: it is retried).
    func start() async throws {
        if !settings.jwksFile.isEmpty {
            guard let bytes = FileManager.default.contents(atPath: settings.jwksFile), bytes.count <= Self.maxBytes else {
                throw SSOConfigError("sso.jwks_file: cannot read \(settings.jwksFile) (at most 1 MiB)")
            }
            let parsed: (keys: [String: SSOKeys.Key], skipped: [String])
            do {
                parsed = try await SSOKeys.parse(jwks: Array(bytes), allowed: settings.algorithms)
            } catch {
                throw SSOConfigError("sso.jwks_file: \(settings.jwksFile) is not a JWKS: \(error)")
            }
            for reason in parsed.skipped { logger.warning("JWKS key skipped", metadata: ["file": "\(settings.jwksFile)", "reason": "\(reason)"]) }
            await keys.replace(source: "file", with: parsed.keys)
        }
        if !settings.jwksURL.isEmpty { await fetch() }
    }

    /// Refreshes the URL's keys when they are due.
    func run() async throws {
        guard !settings.jwksURL.isEmpty else {
            // Nothing to refresh; a service that returns early would stop the group.
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wait = max(1, state.withLock { $0.nextRefresh }.timeIntervalSinceNow)
            try? await Task.sleep(for: .seconds(min(wait, 5)))
            if state.withLock({ $0.nextRefresh }) <= Date() { await fetch() }
        }
    }

    /// A token named a `kid` no key has: fetch now, unless that was done within the last minute.
    func unknownKid() async {
        guard !settings.jwksURL.isEmpty else { return }
        let go = state.withLock { state in
            guard Date().timeIntervalSince(state.lastForced) >= Self.unknownKidInterval else { return false }
            state.lastForced = Date()
            return true
        }
        if go { await fetch() }
    }

    private func fetch() async {
        let url = settings.jwksURL
        do {
            let response = try await pool.run { [client] in try client.get(url, timeoutMilliseconds: 5000, maxResponseBytes: Self.maxBytes) }
            guard response.status == 200 else { throw SSOConfigError("the IdP answered \(response.status)") }
            let parsed = try await SSOKeys.parse(jwks: response.body, allowed: settings.algorithms)
            for reason in parsed.skipped { logger.warning("JWKS key skipped", metadata: ["url": "\(url)", "reason": "\(reason)"]) }
            await keys.replace(source: "url", with: parsed.keys)
            let refresh = Self.maxAge(response.cacheControl).map { min(max($0, 60), 86_400) } ?? Self.defaultRefresh
            state.withLock { $0.nextRefresh = Date().addingTimeInterval(refresh) }
            logger.info("JWKS fetched", metadata: ["url": "\(url)", "keys": "\(parsed.keys.count)", "next_refresh_s": "\(Int(refresh))"])
        } catch {
            state.withLock { $0.nextRefresh = Date().addingTimeInterval(Self.retryAfterFailure) }
            logger.warning("JWKS fetch failed; the keys held are kept", metadata: ["url": "\(url)", "error": "\(error)"])
        }
    }

    /// `max-age=N` of a `Cache-Control` value.
    static func maxAge(_ header: String?) -> TimeInterval? {
        guard let header else { return nil }
        for directive in header.split(separator: ",") {
            let parts = directive.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "max-age", let seconds = Int(parts[1]), seconds >= 0 { return TimeInterval(seconds) }
        }
        return nil
    }
}
