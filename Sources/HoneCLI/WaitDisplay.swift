import Foundation
import HoneEngine

/// What `reconcile --wait` shows while jobs run (specs/cli-reconcile.md, "Progress"), on stderr. On a
/// terminal: a live block of one status line per active job, redrawn after every pass, with the progress
/// messages printed above it. Otherwise (CI logs): a line per job every `interval` seconds.
final class WaitDisplay {
    let live: Bool
    let interval: TimeInterval
    private var shown = 0
    private var lastLines: [String] = []
    private var nextReport: Date
    private let lock = NSLock()

    init(live: Bool, interval: TimeInterval) {
        self.live = live; self.interval = interval
        nextReport = Date().addingTimeInterval(interval)
    }

    /// A progress message: above the live block (which is drawn again under it).
    func message(_ line: String) {
        lock.withLock {
            guard live else { return printError(line) }
            erase()
            printError(line)
            draw(lastLines)
        }
    }

    /// After a pass: the jobs as they are now.
    func update(_ jobs: [JobProgress], now: Date = Date()) {
        lock.withLock {
            let lines = jobs.map(\.line)
            if live {
                erase()
                lastLines = lines
                draw(lines)
            } else if now >= nextReport {
                nextReport = now.addingTimeInterval(interval)
                for l in lines { printError("hone: progress: " + l) }
            }
        }
    }

    /// Leaves the terminal as if the block had never been there (before the summary).
    func finish() { lock.withLock { if live { erase(); lastLines = [] } } }

    private func erase() {
        guard shown > 0 else { return }
        // Up to the block's first line, then clear to the end of the screen.
        Terminal.write("\u{1B}[\(shown)A\r\u{1B}[J", to: .standardError)
        shown = 0
    }

    private func draw(_ lines: [String]) {
        let width = Self.stderrWidth.map { max(20, $0 - 1) } ?? 200
        for l in lines {
            let cut = l.count > width ? String(l.prefix(width - 1)) + "…" : l
            printError("  " + cut)
        }
        shown = lines.count
    }

    static var stderrWidth: Int? {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// The interval without a terminal: `--progress-interval`, else `HONE_PROGRESS_INTERVAL`, else 30 s.
    static func interval(option: Double?, environment: [String: String] = ProcessInfo.processInfo.environment) -> TimeInterval {
        if let option { return option }
        if let text = environment["HONE_PROGRESS_INTERVAL"], let v = Double(text), v > 0 { return v }
        return 30
    }
}

/// Ctrl-C during `reconcile --wait`: the first asks the reconciler to stop after its pass (committing what it
/// collected; the jobs keep running), a second ends the process at once. Either way the exit status is 130.
final class InterruptWatch {
    private let source: DispatchSourceSignal
    private var count = 0
    private let lock = NSLock()

    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            let n = self.lock.withLock { self.count += 1; return self.count }
            if n == 1 { onFirst() } else {
                printError(InterruptWatch.message)
                Foundation.exit(130)
            }
        }
        source.resume()
    }

    static let message = "hone: interrupted: the jobs keep running (they do not depend on this reconciler); collect them with `hone reconcile --wait` again"
}
