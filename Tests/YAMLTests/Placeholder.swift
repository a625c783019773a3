import XCTest

final class YAMLTestsPlaceholder: XCTestCase {}
