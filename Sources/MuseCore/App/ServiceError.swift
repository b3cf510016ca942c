/// What a service refuses that is not a malformed input (`InvalidInput` says that): the HTTP
/// adapter gives each case its status; the core knows nothing of HTTP.
public enum ServiceError: Error, Sendable, Equatable {
    /// No such resource for this caller (another tenant's id included).
    case notFound(String)
    /// The caller may see the resource but not do this to it (a team member changing a shared preset).
    case forbidden(String)
    /// The resource's state forbids the change now (already final, a try already pending).
    case conflict(String)
    /// The request repeats an earlier one's key with different content.
    case mismatch(String)
    /// The caller holds as many of these as it may (datasets, unfinished jobs): 429 `quota_exceeded`.
    case quotaExceeded(String)
    /// Too many at once; worth retrying after the given seconds.
    case rateLimited(String, retryAfterSeconds: Int)
}
