import ContlabCore
import XCTest

/// A test case whose system calls are recorded and not made (`CallRecord.callsKernel = false`):
/// a stage's setup runs whole, calling no kernel, so its order can be checked without root and
/// nothing on the machine changes. Each test starts from an empty record.
open class RecordingTestCase: XCTestCase {
    override open func setUp() {
        super.setUp()
        CallRecord.shared.reset()
        CallRecord.shared.callsKernel = false
    }

    override open func tearDown() {
        CallRecord.shared.callsKernel = true
        CallRecord.shared.reset()
        super.tearDown()
    }
}
