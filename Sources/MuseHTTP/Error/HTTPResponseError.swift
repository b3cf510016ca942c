/// An error of another module that knows its HTTP answer (Hummingbird's `HTTPResponseError`):
/// a store can say "unavailable, retry" without importing HTTP types into its callers.
public protocol HTTPResponseError: Error {
    /// The answer; nil leaves the error a 500.
    var httpError: HTTPError? { get }
}
