import XCTest

final class HoneLoadingTestsPlaceholder: XCTestCase {}
