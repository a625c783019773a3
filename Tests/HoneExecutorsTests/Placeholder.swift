import XCTest

final class HoneExecutorsTestsPlaceholder: XCTestCase {}
