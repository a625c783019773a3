import XCTest

final class HoneCLITestsPlaceholder: XCTestCase {}
