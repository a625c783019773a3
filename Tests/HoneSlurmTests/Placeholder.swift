import XCTest

final class HoneSlurmTestsPlaceholder: XCTestCase {}
