import Foundation
import MuseTestSupport
import Testing

/// Training datasets on both binaries: create, upload PNG and JPEG bodies, caption, remove; what
/// is not an image of the declared type and size is refused with nothing stored; another caller's
/// dataset is not there.
@Suite struct DatasetsTests {
    /// A tiny baseline JPEG: SOI, a frame header of `width`×`height`, EOI (its size is all we read).
    static func jpeg(width: Int, height: Int) -> [UInt8] {
        [
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 0x01, 0x01, 0x11, 0x00,
            0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9,
        ]
    }

    static func upload(
        _ pipeline: PipelineFixture, _ dataset: String, _ bytes: [UInt8], type: String = "image/png", key: String? = nil
    ) async throws
        -> RawResponse
    {
        let client = try await RawHTTPClient(port: pipeline.server.port)
        return try await client.request(
            "POST", "/v1/datasets/\(dataset)/images", headers: ["Authorization": "Bearer \(key ?? pipeline.key)", "Content-Type": type], bytes: bytes)
    }

    static func create(_ pipeline: PipelineFixture, key: String? = nil) async throws -> String {
        let created = try await pipeline.call("POST", "/v1/datasets", body: #"{"name":"my cat","category":"object"}"#, key: key)
        #expect(created.status == 201, "\(created.text)")
        #expect(created.headers["location"] == "/v1/datasets/\(created.json["id"] as? String ?? "")")
        return created.json["id"] as? String ?? ""
    }

    /// The files the server keeps for datasets (uploads are stored under DATA_DIR/datasets).
    static func storedFiles(_ pipeline: PipelineFixture) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: pipeline.server.dataDir! + "/datasets")) ?? []
    }

    @Test(arguments: Binary.allCases) func aDatasetIsFilledCaptionedAndEmptied(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let categories = try await pipeline.call("GET", "/v1/training/dataset-categories")
        #expect((categories.json["data"] as? [[String: Any]])?.compactMap { $0["key"] as? String }.contains("person") == true)
        let form = try await pipeline.call("GET", "/v1/training/form?base=sdxl")
        #expect(form.json["base"] as? String == "sdxl")
        let steps = (form.json["fields"] as? [[String: Any]])?.first { $0["key"] as? String == "steps" }
        #expect(steps?["type"] as? String == "integer" && steps?["default"] as? Int == 2000 && steps?["help"] is String, "\(form.text)")
        for query in ["", "?base=sd3", "?base="] {
            #expect(try await pipeline.call("GET", "/v1/training/form\(query)").status == 400)
        }
        let dataset = try await Self.create(pipeline)

        let png = TinyPNG.make(width: 64, height: 48)
        let stored = try await Self.upload(pipeline, dataset, png)
        #expect(stored.status == 201, "\(stored.text)")
        #expect(stored.json["width"] as? Int == 64 && stored.json["height"] as? Int == 48 && stored.json["content_type"] as? String == "image/png")
        #expect(stored.json["bytes"] as? Int == png.count && (stored.json["sha256"] as? String)?.count == 64)
        let image = try #require(stored.json["id"] as? String)
        let jpeg = try await Self.upload(pipeline, dataset, Self.jpeg(width: 300, height: 200), type: "image/jpeg; charset=binary")
        #expect(jpeg.status == 201 && jpeg.json["width"] as? Int == 300 && jpeg.json["height"] as? Int == 200, "\(jpeg.text)")

        let captioned = try await pipeline.call("PUT", "/v1/datasets/\(dataset)/images/\(image)/caption", body: #"{"caption":"a grey cat, sitting"}"#)
        #expect(captioned.status == 200 && captioned.json["caption"] as? String == "a grey cat, sitting", "\(captioned.text)")
        let read = try await pipeline.call("GET", "/v1/datasets/\(dataset)").json
        #expect(read["image_count"] as? Int == 2 && read["category"] as? String == "object")
        #expect((read["images"] as? [[String: Any]])?.map { $0["caption"] as? String ?? "?" } == ["a grey cat, sitting", ""])
        let bytes = try await pipeline.call("GET", "/v1/datasets/\(dataset)/images/\(image)")
        #expect(bytes.status == 200 && bytes.body == png && bytes.headers["content-type"] == "image/png")
        #expect(bytes.headers["x-content-type-options"] == "nosniff")
        let list = try await pipeline.call("GET", "/v1/datasets").json
        #expect((list["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [dataset])

        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(dataset)/images/\(image)").status == 204)
        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)/images/\(image)").status == 404)
        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["image_count"] as? Int == 1)
        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(dataset)").status == 204)
        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)").status == 404)
        #expect(Self.storedFiles(pipeline).isEmpty, "a deleted dataset's files go with it")
    }

    @Test(arguments: Binary.allCases) func uploadBombsAreRefusedWithNothingStored(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary, environment: ["MUSE_DATASETS_MAX_IMAGE_BYTES": "1048576"])
        defer { pipeline.stop() }
        let dataset = try await Self.create(pipeline)
        let png = TinyPNG.make(width: 32, height: 32)
        var huge = png
        huge.replaceSubrange(16..<24, with: [0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10])  // IHDR says 10,000×10,000
        var junk = png
        junk.replaceSubrange(0..<4, with: Array("GIF8".utf8))
        let refused: [(String, [UInt8], String, Int)] = [
            ("empty", [], "image/png", 400),
            ("wrong magic", junk, "image/png", 400),
            ("text", Array("<svg onload=alert(1)>".utf8), "image/png", 400),
            ("a PNG declared a JPEG", png, "image/jpeg", 400),
            ("a 10,000×10,000 header", huge, "image/png", 400),
            ("truncated", Array(png.dropLast(12)), "image/png", 400),
            ("trailing bytes", png + [0, 1, 2], "image/png", 400),
            ("a JPEG without its frame", [0xFF, 0xD8, 0xFF, 0xD9], "image/jpeg", 400),
            ("not an image type", png, "text/plain", 415),
            ("no type", png, "", 415),
        ]
        for (what, body, type, status) in refused {
            let answer = try await Self.upload(pipeline, dataset, body, type: type)
            #expect(answer.status == status, "\(what): \(answer.text)")
            #expect(answer.headers["content-type"] == "application/problem+json", "\(what)")
        }

        // A body declared small, then megabytes more: the declared bytes are the body (not a PNG:
        // 400); what follows is no request, and stores nothing either.
        let client = try await RawHTTPClient(port: pipeline.server.port)
        let head =
            "POST /v1/datasets/\(dataset)/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(pipeline.key)\r\nContent-Type: image/png\r\nContent-Length: 20\r\n\r\n"
        try await client.send(Array(head.utf8) + png.prefix(20))
        #expect(try await client.readResponse().status == 400)
        try? await client.send([UInt8](repeating: 0x89, count: 4 << 20))
        _ = await client.isClosedByPeer()

        // A body declared larger than the limit (by one byte, or by a gigabyte) is refused from its
        // head, before it is sent.
        for length in [1_048_577, 1 << 30] {
            let early = try await RawHTTPClient(port: pipeline.server.port)
            try await early.send(
                "POST /v1/datasets/\(dataset)/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(pipeline.key)\r\nContent-Type: image/png\r\nContent-Length: \(length)\r\n\r\n"
            )
            #expect(try await early.readResponse().status == 413)
        }

        // A chunked body has no length to refuse it by: it is written as it comes, and cut at the limit.
        let chunked = try await RawHTTPClient(port: pipeline.server.port)
        try await chunked.send(
            "POST /v1/datasets/\(dataset)/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(pipeline.key)\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        let piece = png + [UInt8](repeating: 0, count: (256 << 10) - png.count)
        for _ in 0..<6 { try? await chunked.send(Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]) }
        #expect(try await chunked.readResponse().status == 413)

        // A client that goes away halfway through: what was written of its body goes too.
        let leaving = try await RawHTTPClient(port: pipeline.server.port)
        try await leaving.send(
            Array(
                "POST /v1/datasets/\(dataset)/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(pipeline.key)\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n"
                    .utf8) + png + [UInt8](repeating: 0, count: 300_000))
        try await Task.sleep(for: .milliseconds(200))
        leaving.shutdown()
        for _ in 0..<100 where !Self.storedFiles(pipeline).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        // The client's doing: counted as a 400, not a server error.
        let metrics = try await pipeline.metrics()
        #expect(!metrics.contains(#"route="/v1/datasets/{id}/images",method="POST",status="500""#), "a client that leaves is not a 500")

        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["image_count"] as? Int == 0)
        #expect(Self.storedFiles(pipeline).isEmpty, "nothing of a refused upload is kept: \(Self.storedFiles(pipeline))")
    }

    @Test func aTenantKeepsAtMostItsQuotaOfDatasets() async throws {
        let pipeline = try await PipelineFixture.start(environment: ["MUSE_DATASETS_MAX_PER_TENANT": "2"])
        defer { pipeline.stop() }
        let first = try await Self.create(pipeline)
        _ = try await Self.create(pipeline)
        let third = try await pipeline.call("POST", "/v1/datasets", body: #"{"name":"one more","category":"object"}"#)
        #expect(third.status == 429 && third.json["code"] as? String == "quota_exceeded", "\(third.text)")
        _ = try await Self.create(pipeline, key: try await pipeline.credential("bob"))
        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(first)").status == 204)
        #expect(try await pipeline.call("POST", "/v1/datasets", body: #"{"name":"one more","category":"object"}"#).status == 201)
    }

    @Test(arguments: Binary.allCases) func anotherCallersDatasetIsNotThere(_ binary: Binary) async throws {
        let pipeline = try await PipelineFixture.start(binary: binary)
        defer { pipeline.stop() }
        let dataset = try await Self.create(pipeline)
        let image = try #require(try await Self.upload(pipeline, dataset, TinyPNG.make(width: 8, height: 8)).json["id"] as? String)
        let bob = try await pipeline.credential("bob")
        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)", key: bob).status == 404)
        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)/images/\(image)", key: bob).status == 404)
        #expect(try await Self.upload(pipeline, dataset, TinyPNG.make(width: 8, height: 8), key: bob).status == 404)
        #expect(try await pipeline.call("PUT", "/v1/datasets/\(dataset)/images/\(image)/caption", body: #"{"caption":"mine"}"#, key: bob).status == 404)
        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(dataset)/images/\(image)", key: bob).status == 404)
        #expect(try await pipeline.call("DELETE", "/v1/datasets/\(dataset)", key: bob).status == 404)
        #expect((try await pipeline.call("GET", "/v1/datasets", key: bob).json["data"] as? [Any])?.isEmpty == true)
        // A bad category or name, an unknown field: 400 naming it.
        for (body, field) in [
            (#"{"name":"x","category":"weapons"}"#, "category"), (#"{"name":"  ","category":"person"}"#, "name"),
            (#"{"name":"a\u202eb","category":"person"}"#, "name"), (#"{"name":"x","category":"person","owner":"bob"}"#, "owner"),
        ] {
            let answer = try await pipeline.call("POST", "/v1/datasets", body: body)
            #expect(answer.status == 400 && answer.text.contains(field), "\(body): \(answer.text)")
        }
        #expect(try await pipeline.call("GET", "/v1/datasets/\(dataset)").json["image_count"] as? Int == 1, "bob changed nothing")
    }
}
