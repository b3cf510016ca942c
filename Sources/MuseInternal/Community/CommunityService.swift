import Foundation
import MuseCore

/// A post as one viewer sees it: whether they like it.
struct PostView: Sendable {
    let post: CommunityPost
    let liked: Bool
}

/// Community use cases: publish one of your own images, read the feed, like and unlike, delete
/// your post. Every employee sees the feed; only an image's owner may publish it.
struct CommunityService: Sendable {
    let store: any CommunityStore
    let tasks: any TaskStore

    /// Publishes `imageID` of the caller's generation `generationID`: 201 for a new post, the
    /// existing post when that image is published already. Another's generation or image, or one
    /// the generation did not make, is 404, as if it did not exist.
    func publish(generationID: String, imageID: String, title: String, by author: String, name: String?) async throws -> (PostView, created: Bool) {
        guard let task = try await tasks.task(id: generationID, tenant: author), let image = task.images.first(where: { $0.id == imageID }) else {
            throw ServiceError.notFound("no image \"\(imageID)\" in your generation \"\(generationID)\"")
        }
        let post = CommunityPost(
            id: IDGenerator.make("post"), author: author, authorName: name, generationID: task.id, imageID: image.id, width: image.width,
            height: image.height, title: title, likeCount: 0, createdAt: Date())
        let (saved, created) = try await store.publish(post)
        guard saved.author == author else { throw ServiceError.notFound("no image \"\(imageID)\" in your generation \"\(generationID)\"") }
        return (try await view(saved, for: author), created)
    }

    func post(id: String, viewer: String) async throws -> PostView {
        try await view(try existing(id), for: viewer)
    }

    /// One page, newest first, and the cursor of the next page (nil on the last).
    func feed(viewer: String, limit: Int, before: String?) async throws -> (posts: [PostView], next: String?) {
        let split = Page.split(try await store.feed(limit: limit + 1, before: before), limit: limit, id: \.id)
        let liked = try await store.liked(by: viewer, among: split.items.map(\.id))
        return (split.items.map { PostView(post: $0, liked: liked.contains($0.id)) }, split.next)
    }

    func like(id: String, by user: String) async throws -> PostView {
        guard let post = try await store.like(postID: id, user: user, at: Date()) else { throw Self.noPost(id) }
        return PostView(post: post, liked: true)
    }

    func unlike(id: String, by user: String) async throws -> PostView {
        guard let post = try await store.unlike(postID: id, user: user) else { throw Self.noPost(id) }
        return PostView(post: post, liked: false)
    }

    /// The author deletes their post; anyone else may see it but not delete it (403).
    func delete(id: String, by user: String) async throws {
        let post = try await existing(id)
        guard post.author == user else { throw ServiceError.forbidden("only its author may delete post \"\(id)\"") }
        guard try await store.delete(id: id, author: user) else { throw Self.noPost(id) }
    }

    /// The image a post shows.
    func imageID(ofPost id: String) async throws -> String {
        try await existing(id).imageID
    }

    private func existing(_ id: String) async throws -> CommunityPost {
        guard let post = try await store.post(id: id) else { throw Self.noPost(id) }
        return post
    }

    private func view(_ post: CommunityPost, for viewer: String) async throws -> PostView {
        PostView(post: post, liked: try await store.liked(by: viewer, among: [post.id]).contains(post.id))
    }

    private static func noPost(_ id: String) -> ServiceError { .notFound("no post \"\(id)\"") }
}
