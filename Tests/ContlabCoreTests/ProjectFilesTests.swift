import XCTest
@testable import ContlabCore

final class ProjectFilesTests: XCTestCase {
    func testDataDirectoryHonoursOverrideAndRoot() {
        XCTAssertEqual(ProjectFiles.dataDirectory(environment: ["CONTLAB_DATA": "/x/y"], isRoot: true).path, "/x/y")
        XCTAssertEqual(ProjectFiles.dataDirectory(environment: [:], isRoot: true).path, "/var/lib/contlab")
        XCTAssertEqual(
            ProjectFiles.dataDirectory(environment: ["HOME": "/home/s"], isRoot: false).path,
            "/home/s/.local/share/contlab")
    }
}
