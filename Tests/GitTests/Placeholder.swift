import XCTest

final class GitTestsPlaceholder: XCTestCase {}
