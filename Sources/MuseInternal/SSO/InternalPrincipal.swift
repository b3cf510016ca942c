import MuseHTTP

/// A company user, as the IdP's token names them. `id` owns what they create.
struct InternalPrincipal: Principal {
    let id: String
    let name: String?
    let email: String?
    let department: String?
    let teams: [String]
}
