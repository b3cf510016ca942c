import Foundation

/// One of a user's generated images, published to the company's community feed.
struct CommunityPost: Sendable, Equatable {
    let id: String
    /// The principal id that published it (the owner of the generation).
    let author: String
    /// The author's display name when published (the token's name claim), if any.
    let authorName: String?
    let generationID: String
    let imageID: String
    let width: Int
    let height: Int
    let title: String
    /// Distinct users who like it.
    var likeCount: Int
    let createdAt: Date
}
