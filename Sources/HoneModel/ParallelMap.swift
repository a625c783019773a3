import Foundation

/// The one parallel map of the package (the loader's file reads, the planner's per-object plans).
package enum ParallelMap {
    /// `(0..<n).map` on `workers` threads (DispatchQueue.concurrentPerform), results in index order. Worker
    /// `w` takes indices w, w+workers, …; `body` gets its worker number (for per-worker state) and the index.
    /// Each result is written once, in place, into the array's own storage (no copies of large values).
    package static func map<T>(_ n: Int, workers: Int, _ body: (_ worker: Int, _ index: Int) -> T) -> [T] {
        guard n > 0 else { return [] }
        if workers <= 1 { return (0..<n).map { body(0, $0) } }
        let workers = min(workers, n)
        return [T](unsafeUninitializedCapacity: n) { buffer, count in
            nonisolated(unsafe) let target = buffer.baseAddress!
            withoutActuallyEscaping(body) { body in
                nonisolated(unsafe) let body = body
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    var i = w
                    while i < n {
                        (target + i).initialize(to: body(w, i))
                        i += workers
                    }
                }
            }
            count = n
        }
    }
}
