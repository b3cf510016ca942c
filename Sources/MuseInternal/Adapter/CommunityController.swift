import MuseCore
import MuseHTTP
import MuseServer

/// `/v1/community`: the company's feed of published images, and likes.
struct CommunityController: Sendable {
    let service: CommunityService
    let images: any BlobStore

    struct PublishBody: Decodable {
        let generation: String
        let image: String
        let title: String
    }

    /// The post object of docs/API.md.
    struct PostResource: Encodable {
        struct Author: Encodable {
            let id: String
            let name: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(id, forKey: .id)
                try c.encode(name, forKey: .name)
            }

            enum CodingKeys: String, CodingKey { case id, name }
        }

        struct Image: Encodable {
            let url: String
            let width: Int
            let height: Int
        }

        let id: String
        let title: String
        let author: Author
        let image: Image
        let likeCount: Int
        let liked: Bool
        let createdAt: String?

        enum CodingKeys: String, CodingKey {
            case id, title, author, image, liked
            case likeCount = "like_count"
            case createdAt = "created_at"
        }

        init(_ view: PostView) {
            let post = view.post
            id = post.id
            title = post.title
            author = Author(id: post.author, name: post.authorName)
            image = Image(url: "/v1/community/posts/\(post.id)/image", width: post.width, height: post.height)
            likeCount = post.likeCount
            liked = view.liked
            createdAt = APITime.format(post.createdAt)
        }
    }

    func register(on routes: RouteGroup) {
        routes.post("/v1/community/posts") { request, context in
            let caller = try context.internalPrincipal()
            let body = try JSONBody.decode(PublishBody.self, from: request)
            guard IDGenerator.isID(body.generation, prefix: "gen") else { throw HTTPError.invalidField("generation", "must be a generation id gen_…") }
            guard IDGenerator.isID(body.image, prefix: "img") else { throw HTTPError.invalidField("image", "must be an image id img_…") }
            guard DisplayText.isValid(body.title, maxScalars: 200) else {
                throw HTTPError.invalidField("title", "1 to 200 characters, no control, invisible or direction characters")
            }
            let (view, created) = try await service.publish(
                generationID: body.generation, imageID: body.image, title: body.title, by: caller.id, name: caller.name)
            var response = try Response.json(PostResource(view), status: created ? .created : .ok)
            response.headerFields[.location] = "/v1/community/posts/\(view.post.id)"
            return response
        }
        routes.get("/v1/community/feed") { request, context in
            let limit = try Cursor.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "post")
            let page = try await service.feed(viewer: try context.internalPrincipal().id, limit: limit, before: before)
            return try .json(ListResource(data: page.posts.map(PostResource.init), nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/community/posts/{id}") { request, context in
            try .json(PostResource(try await service.post(id: try request.parameters.require("id"), viewer: try context.internalPrincipal().id)))
        }
        routes.delete("/v1/community/posts/{id}") { request, context in
            try await service.delete(id: try request.parameters.require("id"), by: try context.internalPrincipal().id)
            return Response(status: .noContent)
        }
        routes.post("/v1/community/posts/{id}/like") { request, context in
            try .json(PostResource(try await service.like(id: try request.parameters.require("id"), by: try context.internalPrincipal().id)))
        }
        routes.delete("/v1/community/posts/{id}/like") { request, context in
            try .json(PostResource(try await service.unlike(id: try request.parameters.require("id"), by: try context.internalPrincipal().id)))
        }
        routes.get("/v1/community/posts/{id}/image") { request, context in
            _ = try context.internalPrincipal()
            let imageID = try await service.imageID(ofPost: try request.parameters.require("id"))
            guard let png = try await images.get(imageID + ".png") else { throw HTTPError.notFound("the post's image is gone") }
            // Private: a shared cache must not hand it to someone outside the company.
            return ImagesController.png(png, cacheControl: "private, max-age=3600")
        }
    }
}
