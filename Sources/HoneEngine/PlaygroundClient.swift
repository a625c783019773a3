import Foundation
import HoneLoading
import HoneModel
#if canImport(Glibc)
import Glibc
#endif

/// What a playground's server said to one request.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request to a playground got no HTTP answer.
public enum PlaygroundConnectionError: Error, CustomStringConvertible {
    case badEndpoint(String)
    case unreachable(String, String)
    case timedOut(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .badEndpoint(let e): return "\(e) is not an http://host:port endpoint"
        case .unreachable(let e, let why): return "cannot connect to \(e): \(why)"
        case .timedOut(let e): return "\(e) did not answer in time"
        case .malformed(let e): return "\(e) answered something that is not HTTP"
        }
    }
}

/// A minimal HTTP/1.0 client over a POSIX socket for the OpenAI-shaped API a playground serves
/// (specs/playground.md): one request per connection, the answer read to its end. Enough for loopback
/// and cluster-internal endpoints without a networking stack the product does not otherwise need.
public enum PlaygroundClient {
    /// `http://host:port` → (host, port).
    public static func parse(endpoint: String) -> (host: String, port: UInt16)? {
        guard endpoint.hasPrefix("http://") else { return nil }
        let rest = endpoint.dropFirst("http://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else { return nil }
        let host = String(rest[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    /// Sends one request; `bearer` goes into `Authorization` (never logged or kept).
    public static func request(_ method: String, _ endpoint: String, path: String, body: [UInt8]? = nil, bearer: String? = nil,
                               timeout: TimeInterval) throws -> HTTPAnswer {
        guard let (host, port) = parse(endpoint: endpoint) else { throw PlaygroundConnectionError.badEndpoint(endpoint) }
        let fd = try connect(host: host, port: port, endpoint: endpoint, timeout: timeout)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.0\r\nHost: \(host):\(port)\r\nAccept: application/json\r\nConnection: close\r\n"
        if let bearer { head += "Authorization: Bearer \(bearer)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + (body ?? [])
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw PlaygroundConnectionError.unreachable(endpoint, String(cString: strerror(errno))) }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { throw PlaygroundConnectionError.timedOut(endpoint) }
                throw PlaygroundConnectionError.unreachable(endpoint, String(cString: strerror(errno)))
            }
            answer += buffer[0..<n]
        }
        return try parseAnswer(answer, endpoint: endpoint)
    }

    static func parseAnswer(_ bytes: [UInt8], endpoint: String) throws -> HTTPAnswer {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) }) else {
            throw PlaygroundConnectionError.malformed(endpoint)
        }
        let statusLine = String(decoding: bytes[0..<end], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else { throw PlaygroundConnectionError.malformed(endpoint) }
        return HTTPAnswer(status: status, body: Array(bytes[(end + 4)...]))
    }

    /// A connected socket, or an error within `timeout` (a non-blocking connect: an unreachable host never hangs).
    static func connect(host: String, port: UInt16, endpoint: String, timeout: TimeInterval) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw PlaygroundConnectionError.unreachable(endpoint, "unknown host \(host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw PlaygroundConnectionError.unreachable(endpoint, String(cString: strerror(errno))) }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            let why = String(cString: strerror(errno))
            close(fd)
            throw PlaygroundConnectionError.unreachable(endpoint, why)
        }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&p, 1, Int32(timeout * 1000))
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        guard ready == 1, err == 0 else {
            close(fd)
            if ready == 0 { throw PlaygroundConnectionError.timedOut(endpoint) }
            throw PlaygroundConnectionError.unreachable(endpoint, String(cString: strerror(err != 0 ? err : errno)))
        }
        _ = fcntl(fd, F_SETFL, flags)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Whether the server answers `GET /v1/models`: 200, or 401 when a key is required (the server is up).
    public static func isReady(_ endpoint: String, timeout: TimeInterval = 2) -> Bool {
        guard let a = try? request("GET", endpoint, path: "/v1/models", timeout: timeout) else { return false }
        return a.status == 200 || a.status == 401
    }

    /// A free TCP port on `host` where this process runs (bound to port 0, then released): where a local
    /// job will listen. A port taken between this and the handler's bind makes the handler exit 3.
    public static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HoneError("cannot open a socket to pick a port: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw HoneError("\(host) is not an IPv4 address to listen on") }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw HoneError("cannot pick a free port on \(host): \(String(cString: strerror(errno)))") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
