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

    private let entries = Mutex<[String: Entry]>([:])
    let maxAge: TimeInterval
    let capacity: Int

    init(maxAge: TimeInterval = 60, capacity: Int = 10_000) {
        self.maxAge = maxAge
        self.capacity = capacity
    }

    func principal(for token: Substring, now: Date) -> InternalPrincipal? {
        entries.withLock { entries in
            guard let entry = entries[String(token)] else { return nil }
            guard now < entry.until else {
                entries[String(token)] = nil
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
            entries[String(token)] = Entry(principal: principal, until: until)
        }
    }
}
