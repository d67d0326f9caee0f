import XCTest
@testable import Exercises

final class CatalogTests: XCTestCase {
    func testPlaceholder() {}
}
