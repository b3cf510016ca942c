import Testing

@testable import MuseCore

/// Which webhook targets may be called: addresses that reach inside, in every spelling, and ports.
@Suite struct WebhookTargetPolicyTests {
    let policy = WebhookTargetPolicy(allowLoopback: false, allowedHosts: [], allowedPorts: [8443])

    func bytes(_ text: String) -> [UInt8] { IPAddress.parse(text) ?? [] }

    @Test(arguments: [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1", "198.19.255.255",
        "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "fec0::1", "ff02::1",
        "::ffff:169.254.169.254", "::169.254.169.254", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "2002:a9fe:a9fe::1", "2002:7f00:1::",
        "::ffff:0:127.0.0.1", "::ffff:0:a9fe:a9fe", "64:ff9b:1::8.8.8.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "2001:db8::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe", "100::1",
    ])
    func anAddressThatReachesInsideIsRefused(_ address: String) {
        #expect(policy.refusal(host: "h", address: bytes(address)) != nil, "\(address)")
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822", "2002:5db8:d822::1", "198.20.0.1"])
    func aPublicAddressPasses(_ address: String) {
        #expect(policy.refusal(host: "h", address: bytes(address)) == nil, "\(address)")
    }

    @Test func portsAre80And443AndThoseListed() {
        let public4 = [bytes("93.184.216.34")]
        #expect(policy.refusal(host: "h", port: 443, addresses: public4) == nil)
        #expect(policy.refusal(host: "h", port: 80, addresses: public4) == nil)
        #expect(policy.refusal(host: "h", port: 8443, addresses: public4) == nil)
        #expect(policy.refusal(host: "h", port: 6379, addresses: public4) != nil)
        #expect(policy.refusal(host: "h", port: 22, addresses: public4) != nil)
        let local = WebhookTargetPolicy(allowLoopback: true, allowedHosts: [])
        #expect(local.refusal(host: "localhost", port: 54321, addresses: [bytes("127.0.0.1")]) == nil, "loopback receivers for local work")
        #expect(local.refusal(host: "h", port: 54321, addresses: public4) != nil)
    }

    @Test(arguments: [
        "http://x:0/", "http://x:99999999999999999999/", "http://x:65536/", "ftp://x/", "http://user:pw@x/", "http://x/a b", "http://x/a\tb",
        "http://x/a\r\nHost: y", "http://x/a\u{0}b", "http://x/\u{7f}", "http://x/caf\u{e9}",
    ])
    func aURLWithoutAUsablePortOrSchemeIsNotATarget(_ url: String) {
        #expect(HTTPTarget.parse(url) == nil, "\(url)")
    }
}
