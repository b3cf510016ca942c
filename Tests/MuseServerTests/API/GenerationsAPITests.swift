import Foundation
import MuseTestSupport
import Testing

/// `/v1/generations` and `/v1/models` of muse-cloud on the embedded default, as a client calls
/// them: a real process, a real socket, a real SQLite file, keys made by `keys create`.
@Suite(.serialized) struct GenerationsAPITests {
    let server: ServerProcess
    let key: String
    let otherKey: String

    init() async throws {
        server = try ServerProcess.serve("muse-cloud")
        try await server.waitUntilHealthy()
        key = try await Self.createKey(tenant: "acme", dataDir: server.dataDir!)
        otherKey = try await Self.createKey(tenant: "globex", dataDir: server.dataDir!)
    }

    static func createKey(tenant: String, dataDir: String) async throws -> String {
        let (status, output) = try await ServerProcess.command("muse-cloud", ["keys", "create", "--tenant", tenant, "--data-dir", dataDir])
        #expect(status == 0)
        return output.split(separator: "\n").last.map(String.init) ?? ""
    }

    func call(_ method: String, _ path: String, body: String? = nil, key: String? = nil) async throws -> RawResponse {
        let client = try await RawHTTPClient(port: server.port)
        var headers = ["Authorization": "Bearer \(key ?? self.key)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await client.request(method, path, headers: headers, body: body)
    }

    func field(_ response: RawResponse) -> String? {
        (response.json["errors"] as? [[String: Any]])?.first?["field"] as? String
    }

    /// The scheme is case-insensitive (RFC 9110); a NUL in a text is never cut off where it is stored or looked up.
    @Test func bearerInAnyCaseAndNoTextShortenedAtANUL() async throws {
        for scheme in ["bearer", "BEARER", "Bearer"] {
            let client = try await RawHTTPClient(port: server.port)
            #expect(try await client.request("GET", "/v1/generations", headers: ["Authorization": "\(scheme) \(key)"]).status == 200, "\(scheme)")
        }
        let lookedUp = try await call("POST", "/v1/generations", body: #"{"model":"sd15-base\u0000evil","prompt":"x"}"#)
        #expect(lookedUp.status == 400, "a model key with a NUL is not sd15-base: \(lookedUp.text)")
        let saved = try await call(
            "POST", "/v1/presets", body: #"{"name":"a\u0000b","description":"abc\u0000def","params":{"model":"sd15-base","prompt":"x"}}"#)
        if saved.status == 201, let id = saved.json["id"] as? String {
            let read = try await call("GET", "/v1/presets/\(id)").json
            #expect(read["name"] as? String == "a\u{0}b" && read["description"] as? String == "abc\u{0}def", "stored exactly: \(read)")
        } else {
            #expect(saved.status == 400, "\(saved.text)")
        }
    }
    @Test func submitReturns202WithTheResolvedTaskAndLocation() async throws {
        let created = try await call(
            "POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"a red fox","seed":42,"loras":[{"key":"lora-fox","weight":0.8}]}"#)
        #expect(created.status == 202)
        let id = created.json["id"] as? String ?? ""
        #expect(id.hasPrefix("gen_"))
        #expect(created.headers["location"] == "/v1/generations/\(id)")
        #expect(created.json["status"] as? String == "queued")
        #expect(created.json["queue_position"] as? Int != nil)
        let params = created.json["params"] as? [String: Any] ?? [:]
        #expect(params["width"] as? Int == 512 && params["steps"] as? Int == 30 && params["seed"] as? Int == 42)
        #expect(params["sampler"] as? String == "euler_a")

        let read = try await call("GET", "/v1/generations/\(id)")
        #expect(read.status == 200)
        #expect(read.json["id"] as? String == id)
        #expect((read.json["params"] as? [String: Any])?["prompt"] as? String == "a red fox")
    }

    @Test func anotherTenantsTaskIsNotFound() async throws {
        let id = try await call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"mine"}"#).json["id"] as? String ?? ""
        let response = try await call("GET", "/v1/generations/\(id)", key: otherKey)
        #expect(response.status == 404)
        #expect(response.json["code"] as? String == "not_found")
        #expect(try await call("POST", "/v1/generations/\(id)/cancel", key: otherKey).status == 404)
        let list = try await call("GET", "/v1/generations", key: otherKey)
        #expect((list.json["data"] as? [Any])?.isEmpty == true)
    }

    @Test func cancelWhileQueuedThenConflict() async throws {
        let id = try await call("POST", "/v1/generations", body: #"{"model":"sdxl-base","prompt":"a lighthouse"}"#).json["id"] as? String ?? ""
        let canceled = try await call("POST", "/v1/generations/\(id)/cancel")
        #expect(canceled.status == 200)
        #expect(canceled.json["status"] as? String == "canceled")
        #expect(canceled.json["finished_at"] as? String != nil)
        let again = try await call("POST", "/v1/generations/\(id)/cancel")
        #expect(again.status == 409)
        #expect(again.json["code"] as? String == "conflict")
    }

    @Test func listPagesNewestFirstWithStableCursorsAndStatusFilter() async throws {
        var ids: [String] = []
        for i in 0..<7 {
            ids.append(try await call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"page \#(i)"}"#).json["id"] as? String ?? "")
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await call("GET", "/v1/generations?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == 200)
            seen += (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            cursor = page.json["next_cursor"] as? String
            _ = try await call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"inserted meanwhile"}"#)
        } while cursor != nil
        // Tasks inserted between pages are newer than the first page: later pages neither shift nor repeat.
        #expect(seen == ids.reversed())
        let canceledOnly = try await call("GET", "/v1/generations?status=canceled")
        #expect((canceledOnly.json["data"] as? [[String: Any]] ?? []).allSatisfy { $0["status"] as? String == "canceled" })
    }

    /// Inputs a client controls, bounded where they are read.
    static let boundedInputs: [(String, Int, String)] = {
        let combining = String(repeating: #"\u0301"#, count: 2001)
        let manyLoRAs = Array(repeating: #"{"key":"k","weight":1}"#, count: 50).joined(separator: ",")
        let bigMetadata = String(repeating: "a", count: 17_000)
        return [
            (#"{"model":"sd15-base","prompt":"x","init_image":"https://169.254.169.254/latest/meta-data"}"#, 400, "init_image"),
            (#"{"model":"sd15-base","prompt":"x","init_image":"file:///etc/passwd"}"#, 400, "init_image"),
            (#"{"model":"sd15-base","prompt":"x","init_image":"img_../../etc"}"#, 400, "init_image"),
            (#"{"model":"sd15-base","prompt":"x","init_image":"img_0123456789abcdefghjkmnpqrs"}"#, 400, "init_image"),
            (#"{"model":"sd15-base","prompt":"x","metadata":{"a":"\#(bigMetadata)"}}"#, 400, "metadata"),
            (#"{"model":"sd15-base","prompt":"x","guidance_scale":1e400}"#, 400, "guidance_scale"),
            (#"{"model":"sd15-base","prompt":"x","seed":1e400}"#, 400, "seed"),
            (#"{"model":"sd15-base","prompt":"x","steps":9007199254740993}"#, 400, "steps"),
            (#"{"model":"sd15-base","prompt":"a\u0000b"}"#, 400, "prompt"),
            (#"{"model":"sd15-base","prompt":"x","negative_prompt":"\u0000"}"#, 400, "negative_prompt"),
            (#"{"model":"sd15-base","prompt":"e\#(combining)"}"#, 400, "prompt"),
            (#"{"model":"sd15-base","prompt":"x","loras":[\#(manyLoRAs)]}"#, 400, "loras"),
            (#"{"model":"sd15-base","prompt":"x","metadata":{"a":[1,{"b":1e999}]}}"#, 400, "metadata.a[1].b"),
            (#"{"model":"sd15-base","prompt":"x","init_image":"data:image/png;base64,!!!not base64<script>"}"#, 400, "init_image"),
            (#"{"model":"sd15-base","prompt":"x","init_image":"data:image/png;base64,R0lGODlhAQABAAAAACw="}"#, 400, "init_image"),
        ]
    }()

    @Test(arguments: [
        (#"{"model":"sd15-base","prompt":"x","width":500}"#, 400, "width"),
        (#"{"model":"sd15-base","prompt":"x","height":4096}"#, 400, "height"),
        (#"{"model":"no-such-model","prompt":"x"}"#, 400, "model"),
        (#"{"model":"sd15-base","prompt":"x","loras":[{"key":"lora-none","weight":1}]}"#, 400, "loras[0].key"),
        (#"{"model":"sd15-base","prompt":"x","loras":[{"key":"lora-xl-neon","weight":1}]}"#, 400, "loras[0].key"),
        (#"{"model":"sd15-base","prompt":"x","steps":1000}"#, 400, "steps"),
        (#"{"model":"sd15-base","prompt":"x","sampler":"warp"}"#, 400, "sampler"),
        (#"{"model":"sd15-base","prompt":"x","priority":"asap"}"#, 400, "priority"),
        (#"{"model":"sd15-base","prompt":"x","num_images":9}"#, 400, "num_images"),
        (#"{"model":"sd15-base","prompt":"x","stepz":20}"#, 400, "stepz"),
        (#"{"model":"sd15-base","prompt":"x","steps":"20"}"#, 400, "steps"),
        (#"{"prompt":"x"}"#, 400, "model"),
    ])
    func badInputNamesTheField(_ body: String, _ status: Int, _ name: String) async throws {
        let response = try await call("POST", "/v1/generations", body: body)
        #expect(response.status == status)
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.json["code"] as? String == "invalid_argument")
        #expect(field(response) == name)
    }

    @Test(arguments: boundedInputs)
    func boundedInputNamesTheField(_ body: String, _ status: Int, _ name: String) async throws {
        try await badInputNamesTheField(body, status, name)
    }

    @Test func malformedJSONBadCursorBadStatusAndUnknownIdsAreClientErrors() async throws {
        #expect(try await call("POST", "/v1/generations", body: #"{"model": "sd15-base", "prompt": }"#).status == 400)
        let cursor = try await call("GET", "/v1/generations?cursor=not-a-cursor")
        #expect(cursor.status == 400 && field(cursor) == "cursor")
        let status = try await call("GET", "/v1/generations?status=done")
        #expect(status.status == 400 && field(status) == "status")
        let limit = try await call("GET", "/v1/generations?limit=0")
        #expect(limit.status == 400 && field(limit) == "limit")
        #expect(try await call("GET", "/v1/generations/gen_doesnotexist").status == 404)
    }

    @Test func requestsWithoutAValidKeyAre401() async throws {
        let client = try await RawHTTPClient(port: server.port)
        #expect(try await client.request("GET", "/v1/generations").status == 401)
        #expect(try await call("GET", "/v1/generations", key: "mk_0000").status == 401)
    }

    @Test func modelsListFiltersAndGet() async throws {
        let all = try await call("GET", "/v1/models")
        let keys = (all.json["data"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        #expect(keys.contains("sd15-base") && keys.contains("sdxl-base"))
        let loras = try await call("GET", "/v1/models?type=lora&base=sdxl")
        #expect((loras.json["data"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String } == ["lora-xl-neon"])
        let one = try await call("GET", "/v1/models/sdxl-base")
        #expect(one.json["base_model"] as? String == "sdxl")
        #expect((one.json["default_params"] as? [String: Any])?["width"] as? Int == 1024)
        #expect(try await call("GET", "/v1/models/nope").status == 404)
        #expect(try await call("GET", "/v1/models?type=vae").status == 400)
    }

    @Test func tasksSurviveARestart() async throws {
        let id = try await call("POST", "/v1/generations", body: #"{"model":"sd15-base","prompt":"durable"}"#).json["id"] as? String ?? ""
        server.signal(SIGKILL)
        _ = await server.waitForExit()
        let restarted = try ServerProcess("muse-cloud", arguments: ["--port", String(server.port), "--data-dir", server.dataDir!], port: server.port)
        defer { restarted.stop() }
        try await restarted.waitUntilHealthy()
        let client = try await RawHTTPClient(port: restarted.port)
        let read = try await client.request("GET", "/v1/generations/\(id)", headers: ["Authorization": "Bearer \(key)"])
        #expect(read.status == 200)
        #expect(read.json["status"] as? String == "queued")
    }
}
