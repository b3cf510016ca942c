import Foundation

/// Where community posts and their likes live. A like is one row per (post, user), and a post's
/// count changes in the same transaction as that row: concurrent likes never lose or double one.
protocol CommunityStore: Sendable {
    /// Saves the post; if its image is published already, the existing post instead.
    func publish(_ post: CommunityPost) async throws -> (post: CommunityPost, created: Bool)
    func post(id: String) async throws -> CommunityPost?
    /// Posts newest first; `before` is the last id of the previous page.
    func feed(limit: Int, before: String?) async throws -> [CommunityPost]
    /// Records `user`'s like once, however often asked; nil if there is no such post.
    func like(postID: String, user: String, at date: Date) async throws -> CommunityPost?
    /// Removes `user`'s like, if any; nil if there is no such post.
    func unlike(postID: String, user: String) async throws -> CommunityPost?
    /// Which of `postIDs` `user` likes.
    func liked(by user: String, among postIDs: [String]) async throws -> Set<String>
    /// Deletes the author's post and its likes; false if the author has no such post.
    func delete(id: String, author: String) async throws -> Bool
}
