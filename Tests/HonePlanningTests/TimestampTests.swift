import Foundation
import XCTest
import HoneModel

/// `Timestamp` writes `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds) and reads it back; it also reads UTC offsets.
final class TimestampTests: XCTestCase {
    func testKnownValues() {
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 1_767_608_430)), "2026-01-05T10:20:30Z")
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 1_709_164_800)), "2024-02-29T00:00:00Z")
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 253_402_300_799)), "9999-12-31T23:59:59Z")
        // Fractions are dropped, also before 1970.
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: 1.9)), "1970-01-01T00:00:01Z")
        XCTAssertEqual(Timestamp.string(Date(timeIntervalSince1970: -0.5)), "1969-12-31T23:59:59Z")
        XCTAssertEqual(Timestamp.date("2026-01-05T10:20:30Z")?.timeIntervalSince1970, 1_767_608_430)
        XCTAssertEqual(Timestamp.date("1969-12-31T23:59:59Z")?.timeIntervalSince1970, -1)
    }

    func testRoundTrip() {
        var t: Int64 = -2_208_988_800  // 1900-01-01
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSince1970: TimeInterval(t))
            let s = Timestamp.string(date)
            XCTAssertEqual(s.count, 20, s)
            XCTAssertEqual(Timestamp.date(s), date, s)
            t += Int64.random(in: 1...400_000, using: &generator)
        }
        let now = Date()
        XCTAssertEqual(Timestamp.date(Timestamp.string(now))?.timeIntervalSince1970, now.timeIntervalSince1970.rounded(.down))
        XCTAssertEqual(Timestamp.date(Timestamp.now).map { abs($0.timeIntervalSinceNow) < 5 }, true)
    }

    func testAgreesWithISO8601DateFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for t in stride(from: -86_400 * 365 * 60, through: 86_400 * 365 * 80, by: 86_400 * 7 + 3_607) {
            let date = Date(timeIntervalSince1970: TimeInterval(t))
            XCTAssertEqual(Timestamp.string(date), formatter.string(from: date))
        }
    }

    func testOffsetsAndLenientForms() {
        let utc = Timestamp.date("2026-01-05T10:20:30Z")!
        for s in ["2026-01-05T12:20:30+02:00", "2026-01-05T12:20:30+0200", "2026-01-05T12:20:30+02",
                  "2026-01-05T04:50:30-05:30", "2026-01-05T10:20:30z", " 2026-01-05T10:20:30Z\n"] {
            XCTAssertEqual(Timestamp.date(s), utc, s)
        }
        XCTAssertEqual(Timestamp.date("2026-1-5T00:00:00Z"), Timestamp.date("2026-01-05T00:00:00Z"))
        XCTAssertEqual(Timestamp.date("2026-01-05T24:00:00Z"), Timestamp.date("2026-01-06T00:00:00Z"))
    }

    func testRejects() {
        for s in ["", "2026-01-05", "2026-01-05T10:20:30", "2026-01-05T10:20Z", "2026-01-05T10:20:30.5Z",
                  "2026-01-05 10:20:30Z", "2026-13-01T00:00:00Z", "2026-00-05T00:00:00Z", "2026-01-00T00:00:00Z",
                  "2026-01-32T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-05T23:60:00Z",
                  "2026-01-05T23:59:60Z", "2026-01-05T24:00:01Z", "2026-01-05T10:20:30Zjunk", "2026-01-05T10:20:30+2",
                  "2026-01-05T10:20:30+02:", "26-01-05T00:00:00Z", "+2026-01-05T10:20:30Z", "yesterday"] {
            XCTAssertNil(Timestamp.date(s), s)
        }
        XCTAssertNotNil(Timestamp.date("2024-02-29T00:00:00Z"))
        XCTAssertNotNil(Timestamp.date("2000-02-29T00:00:00Z"))
        XCTAssertNil(Timestamp.date("1900-02-29T00:00:00Z"))
    }
}
