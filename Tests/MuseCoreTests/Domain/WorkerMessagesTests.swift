import Foundation
import MuseWorkerProtocol
import Testing

@testable import MuseCore

/// What a worker's result must look like before the server reads it.
@Suite struct WorkerMessagesTests {
    @Test(arguments: ["", "AAAA", "AB==", "ABC=", "/+9zQUJD", "iVBORw0KGgo="])
    func paddedBase64IsAccepted(_ text: String) {
        #expect(WorkerResult.isPaddedBase64(text))
        #expect(Data(base64Encoded: text) != nil)  // and Foundation decodes it
    }

    @Test(arguments: ["A===", "AAA", "AB=C", "====", "QUJD\n", "QU JD", "é123", "AB-_"])
    func anythingElseIsNot(_ text: String) {
        #expect(!WorkerResult.isPaddedBase64(text))
    }
}
