import Testing

@testable import MuseCore

@Suite struct WorkerURLPolicyTests {
    @Test func loopbackOnlyAsOnTheEmbeddedDefault() throws {
        let policy = try WorkerURLPolicy.parse("127.0.0.0/8, ::1, localhost").get()
        #expect(policy.allows("http://127.0.0.1:9001"))
        #expect(policy.allows("http://127.9.9.9/worker"))
        #expect(policy.allows("http://[::1]:9001"))
        #expect(policy.allows("http://localhost:9001"))
        #expect(!policy.allows("http://10.0.0.5:9001"))
        #expect(!policy.allows("http://169.254.169.254/"))
        #expect(!policy.allows("http://[::ffff:10.0.0.5]/"))
        #expect(!policy.allows("http://localhost.evil.example/"))
        #expect(!policy.allows("http://evil.example/"))
        #expect(!policy.allows("not a url"))
    }

    @Test func cidrsNamesAndSuffixes() throws {
        let policy = try WorkerURLPolicy.parse("10.1.0.0/16, fd00:1::/32, gpu-1.lab, *.workers.svc").get()
        #expect(policy.allows("http://10.1.200.3:80"))
        #expect(!policy.allows("http://10.2.0.1:80"))
        #expect(policy.allows("http://[fd00:1:ffff::1]:80"))
        #expect(!policy.allows("http://[fd00:2::1]:80"))
        #expect(policy.allows("http://GPU-1.lab:9000"))
        #expect(policy.allows("http://a.workers.svc"))
        #expect(!policy.allows("http://workers.svc"))
        #expect(!policy.allows("http://aworkers.svc"))
    }

    @Test(arguments: ["10.0.0.0/33", "::1/129", "10.0.0.0/x", "bad host!", "http://x"])
    func aBadEntryIsNamed(_ entry: String) {
        guard case .failure(let error) = WorkerURLPolicy.parse("127.0.0.1, \(entry)") else {
            Issue.record("\(entry) was accepted")
            return
        }
        #expect(error.entry == entry.lowercased())
    }
}
