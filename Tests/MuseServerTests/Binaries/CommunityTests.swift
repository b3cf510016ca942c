import Foundation
import MuseTestSupport
import Testing

/// muse-internal's community: users publish their own images, everyone reads the feed, likes
/// count each user once however many arrive at the same time.
@Suite(.serialized) struct CommunityTests {
    /// A muse-internal server with a worker, and ann's finished generation of `images` images.
    static func start(images: Int) async throws -> (pipeline: PipelineFixture, worker: ServerProcess, generation: String, images: [String]) {
        let pipeline = try await PipelineFixture.start(binary: .internal)
        let worker = try pipeline.worker(latencyMs: 10)
        let id = try await pipeline.submit(#"{"model":"sd15-base","prompt":"a fox","num_images":\#(images),"steps":2,"width":256,"height":256}"#)
        let (task, _) = try await pipeline.poll(id) { $0["status"] as? String == "succeeded" }
        let ids = (task["images"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return (pipeline, worker, id, ids)
    }

    static func publish(_ generation: String, _ image: String, _ title: String = "my fox") -> String {
        #"{"generation":"\#(generation)","image":"\#(image)","title":"\#(title)"}"#
    }

    @Test func anOwnImageIsPublishedOnceAndAnotherUsersIsNotThere() async throws {
        let (pipeline, worker, generation, images) = try await Self.start(images: 3)
        defer { worker.stop(); pipeline.stop() }
        let bob = try await pipeline.credential("bob")
        let bobsGeneration =
            try await pipeline.call(
                "POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"bob's","steps":2,"width":256,"height":256}"#, key: bob
            ).json["id"] as? String ?? ""

        // Another's generation, an image of another generation, made-up ids: 404, nothing published.
        for body in [Self.publish(generation, images[0]), Self.publish(bobsGeneration, images[0])] {
            #expect(try await pipeline.call("POST", "/v1/community/posts", body: body, key: bob).status == 404)
        }
        #expect(try await pipeline.call("POST", "/v1/community/posts", body: Self.publish(generation, "img_01jdxxxxxxxxxxxxxxxxxxxxxx")).status == 404)
        for body in [
            Self.publish("gen_../x", images[0]), Self.publish(generation, "../../etc/passwd"), Self.publish(generation, images[0], ""),
            Self.publish(generation, images[0], String(repeating: "a", count: 201)), Self.publish(generation, images[0], #"a\u202eb"#),
            Self.publish(generation, images[0], #"a\u00adb"#), Self.publish(generation, images[0], #"a\u061cb"#),
            Self.publish(generation, images[0], #"a\udb40\udc69b"#), Self.publish(generation, images[0], #"\u3164\u3164"#),
            Self.publish(generation, images[0], "  "), Self.publish(generation, images[0], #"\u0301"#),
            #"{"generation":"\#(generation)","image":"\#(images[0])"}"#,
        ] {
            #expect(try await pipeline.call("POST", "/v1/community/posts", body: body).status == 400, "\(body)")
        }
        #expect((try await pipeline.call("GET", "/v1/community/feed").json["data"] as? [Any])?.isEmpty == true)

        let created = try await pipeline.call("POST", "/v1/community/posts", body: Self.publish(generation, images[0]))
        #expect(created.status == 201, "\(created.text)")
        let post = try #require(created.json["id"] as? String)
        #expect((created.json["author"] as? [String: Any])?["id"] as? String == "acme")
        #expect(created.json["like_count"] as? Int == 0 && created.json["liked"] as? Bool == false)
        let again = try await pipeline.call("POST", "/v1/community/posts", body: Self.publish(generation, images[0], "again"))
        #expect(again.status == 200 && again.json["id"] as? String == post, "one post per image")

        // bob reads it and its image, yet the image route stays its owner's.
        let seen = try await pipeline.call("GET", "/v1/community/posts/\(post)", key: bob)
        #expect(seen.status == 200 && seen.json["title"] as? String == "my fox")
        let png = try await pipeline.call("GET", "/v1/community/posts/\(post)/image", key: bob)
        #expect(png.status == 200 && png.headers["content-type"] == "image/png" && PNGCheck.dimensions(png.body)?.width == 256)
        #expect(try await pipeline.call("GET", "/v1/images/\(images[0])", key: bob).status == 404)

        // Only its author deletes it; then it is gone everywhere.
        #expect(try await pipeline.call("DELETE", "/v1/community/posts/\(post)", key: bob).status == 403)
        #expect(try await pipeline.call("DELETE", "/v1/community/posts/\(post)").status == 204)
        for (method, path) in [("GET", ""), ("GET", "/image"), ("POST", "/like"), ("DELETE", "/like"), ("DELETE", "")] {
            #expect(try await pipeline.call(method, "/v1/community/posts/\(post)\(path)", key: bob).status == 404, "\(method) \(path)")
        }
        #expect((try await pipeline.call("GET", "/v1/community/feed", key: bob).json["data"] as? [Any])?.isEmpty == true)
    }

    @Test func theFeedPagesNewestFirst() async throws {
        let (pipeline, worker, generation, images) = try await Self.start(images: 3)
        defer { worker.stop(); pipeline.stop() }
        var posts: [String] = []
        for (i, image) in images.enumerated() {
            posts.append(
                try await pipeline.call("POST", "/v1/community/posts", body: Self.publish(generation, image, "fox \(i) 🦊❤️ café")).json["id"] as? String ?? "")
            try await Task.sleep(for: .milliseconds(2))
        }
        let first = try await pipeline.call("GET", "/v1/community/feed?limit=2")
        let cursor = try #require(first.json["next_cursor"] as? String)
        let rest = try await pipeline.call("GET", "/v1/community/feed?limit=2&cursor=\(cursor)")
        #expect(rest.json["next_cursor"] is NSNull)
        let shown = ((first.json["data"] as? [[String: Any]] ?? []) + (rest.json["data"] as? [[String: Any]] ?? [])).compactMap { $0["id"] as? String }
        #expect(shown == posts.reversed())
        #expect((first.json["data"] as? [[String: Any]])?.first?["title"] as? String == "fox 2 🦊❤️ café", "emoji and accents are titles too")
        #expect(try await pipeline.call("GET", "/v1/community/feed?cursor=gen_x").status == 400)
        #expect(try await pipeline.call("GET", "/v1/community/feed?limit=0").status == 400)
    }

    @Test func likesAreIdempotentAndCountEachUserOnceUnderConcurrency() async throws {
        let (pipeline, worker, generation, images) = try await Self.start(images: 1)
        defer { worker.stop(); pipeline.stop() }
        let post = try await pipeline.call("POST", "/v1/community/posts", body: Self.publish(generation, images[0])).json["id"] as? String ?? ""
        let users = 16
        var tokens: [String] = []
        for i in 0..<users { tokens.append(try await pipeline.credential("user\(i)")) }

        // Every user likes it three times at once: 48 requests, 16 likes.
        let liked = try await withThrowingTaskGroup(of: Int.self) { group in
            for token in tokens {
                for _ in 0..<3 { group.addTask { try await pipeline.call("POST", "/v1/community/posts/\(post)/like", key: token).status } }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(liked.allSatisfy { $0 == 200 } && liked.count == users * 3)
        let counted = try await pipeline.call("GET", "/v1/community/posts/\(post)", key: tokens[0])
        #expect(counted.json["like_count"] as? Int == users && counted.json["liked"] as? Bool == true)
        #expect(try await pipeline.call("GET", "/v1/community/posts/\(post)").json["liked"] as? Bool == false, "the author has not liked it")

        // Half take it back, twice each, at once; the others' likes stay.
        let unliked = try await withThrowingTaskGroup(of: Int.self) { group in
            for token in tokens.prefix(users / 2) {
                for _ in 0..<2 { group.addTask { try await pipeline.call("DELETE", "/v1/community/posts/\(post)/like", key: token).status } }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(unliked.allSatisfy { $0 == 200 })
        let feed = try await pipeline.call("GET", "/v1/community/feed", key: tokens[users - 1]).json["data"] as? [[String: Any]]
        #expect(feed?.first?["like_count"] as? Int == users / 2 && feed?.first?["liked"] as? Bool == true)
        #expect(try await pipeline.call("POST", "/v1/community/posts/post_01jdxxxxxxxxxxxxxxxxxxxxxx/like").status == 404)
    }
}
