import Foundation
import Synchronization

/// Tokens verified recently, so that a client calling with the same token pays for one
/// signature check a minute, not one per request (an EdDSA or RSA verification costs more than
/// the rest of a request). An entry lives until the token expires or for `maxAge`, whichever is
/// first, so a key the IdP withdrew stops working within `maxAge`.
final class VerifiedTokens: Sendable {
    private struct Entry {
        let principal: InternalPrincipal
        let until: Date
    }

    /// By the token's bytes: a `String` key would match canonically equivalent text (a token
    /// with U+212A for K), which was never verified.
    private let entries = Mutex<[[UInt8]: Entry]>([:])
    let maxAge: TimeInterval
    let capacity: Int

    init(maxAge: TimeInterval = 60, capacity: Int = 10_000) {
        self.maxAge = maxAge
        self.capacity = capacity
    }

    func principal(for token: Substring, now: Date) -> InternalPrincipal? {
        entries.withLock { entries in
            let key = Array(token.utf8)
            guard let entry = entries[key] else { return nil }
            guard now < entry.until else {
                entries[key] = nil
                return nil
            }
            return entry.principal
        }
    }

    /// Remembers a token verified at `now` that expires at `expiresAt` (its `exp` plus the skew).
    func remember(_ token: Substring, _ principal: InternalPrincipal, expiresAt: Date, now: Date) {
        let until = min(expiresAt, now.addingTimeInterval(maxAge))
        guard until > now else { return }
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { now < $0.value.until }
                // Still full of live entries: start again rather than grow without bound.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[Array(token.utf8)] = Entry(principal: principal, until: until)
        }
    }
}
