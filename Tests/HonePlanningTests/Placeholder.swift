import XCTest

final class HonePlanningTestsPlaceholder: XCTestCase {}
