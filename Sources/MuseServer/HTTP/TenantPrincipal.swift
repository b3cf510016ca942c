import MuseCore
import MuseHTTP
import MuseInfra

/// The caller as a tenant: every object it creates belongs to it, and only it sees them.
public struct TenantPrincipal: Principal {
    public let id: String

    public init(tenant: String) {
        self.id = tenant
    }
}

extension RequestContext {
    /// The authenticated tenant; 401 if the security filter let an anonymous request through.
    func tenant() throws(HTTPError) -> String {
        guard let principal else { throw HTTPError(.unauthenticated, detail: "authentication required") }
        return principal.id
    }

    /// The authenticated caller with its teams, for the use cases that show team objects.
    func caller() throws(HTTPError) -> Caller {
        Caller(tenant: try tenant(), teams: Set(principal?.groups ?? []))
    }
}
