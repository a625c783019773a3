import XCTest

final class HoneEngineTestsPlaceholder: XCTestCase {}
