// gatehouse-loadclient: a compiled WebSocket load client for the benchmark (tests/bench/run.sh).
//
// One thread, epoll, non-blocking sockets: it opens N authenticated WebSocket connections
// against a server (Gatehouse, or the seed's Node example), holds them, and measures from the
// outside what the issue asks for: handshakes per second, connect latency, the server's CPU
// time per handshake and RSS per idle connection (from /proc/<pid>), revoke-to-closed latency
// for one user's 10 devices while all N are open, broadcast delivery to everyone, and what the
// server's pings of N idle connections cost it, and what a message inspector open on other
// connections costs the ones it does not inspect. Each scenario prints one JSON object on a line
// of its own.
//
// It speaks just enough RFC 6455 for that: a client handshake, unmasked server frames (text,
// close, ping), and a masked pong for every ping, as browsers send. Tokens come from files, one
// per line. With --tls, every connection (the admin requests too) speaks TLS through OpenSSL,
// without verifying the server (what is measured is the server's cost, not the client's trust).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start, Clock::time_point end = Clock::now())
{
    return std::chrono::duration<double, std::milli>(end - start).count();
}

[[noreturn]] void die(const std::string &message)
{
    std::fprintf(stderr, "loadclient: %s\n", message.c_str());
    std::exit(2);
}

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    int serverPid = 0;
    std::string pathTemplate = "/ws?access_token={token}"; ///< {token} is replaced
    std::string tokensFile; ///< the N background connections, round robin over the tokens
    int connections = 1000;
    int concurrency = 256;
    std::string revokeTokensFile; ///< "user token" per line: 10 devices for each repeat user
    std::string revokeRequest; ///< HTTP request template with {user}; sent per repeat
    std::string broadcastRequest; ///< HTTP request, sent once
    int settleMs = 2000;
    int holdMs = 0; ///< hold everything open this long (snapshots may run meanwhile)
    std::string label = "server";
    bool expectRefusals = false; ///< every handshake is meant to be refused: measure that
    int pingHoldMs = 0; ///< hold idle this long twice: as configured, then after pingRequest
    std::string pingRequest; ///< HTTP request that makes the server ping (PUT /admin/limits)
    /// With it, broadcasts are measured again (inspectScenario): this file appears once
    /// another process has opened inspectors; "<file>.waiting" asks it to.
    std::string inspectReady;
    bool tls = false; ///< wss:// and https://
};

struct ProcessSample {
    double cpuSeconds = 0;
    long rssKiB = 0;
};

ProcessSample sample(int pid)
{
    ProcessSample result;
    if (pid <= 0)
        return result;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const auto close = content.rfind(')');
    if (close == std::string::npos)
        return result;
    std::vector<std::string> fields;
    std::string field;
    for (char c : content.substr(close + 2)) {
        if (c == ' ') {
            fields.push_back(field);
            field.clear();
        } else {
            field += c;
        }
    }
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here (0-based from state).
    const double ticks = double(sysconf(_SC_CLK_TCK));
    result.cpuSeconds = (std::stod(fields.at(11)) + std::stod(fields.at(12))) / ticks;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            result.rssKiB = std::stol(line.substr(6));
    }
    return result;
}

std::vector<std::string> readLines(const std::string &path)
{
    std::ifstream file(path);
    if (!file)
        die("cannot read " + path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(file, line)) {
        if (!line.empty())
            lines.push_back(line);
    }
    return lines;
}

std::string replaced(std::string text, const std::string &placeholder, const std::string &value)
{
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
        text.replace(at, placeholder.size(), value);
    return text;
}

double percentile(std::vector<double> values, double fraction)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = std::min(values.size() - 1, size_t(fraction * double(values.size() - 1) + 0.5));
    return values[index];
}

struct Connection {
    enum class State { Connecting, AwaitingUpgrade, Open, Closed, Http };
    int fd = -1;
    SSL *ssl = nullptr; ///< with --tls
    bool handshaken = false; ///< the TLS handshake is done (always, without TLS)
    State state = State::Connecting;
    std::string request;
    std::string input;
    Clock::time_point started;
    Clock::time_point welcomed;
    int group = -1; ///< the revoke repeat it belongs to, or -1
    bool pending = false; ///< counted in m_inFlight until welcomed, refused or closed
    int textMessages = 0;
    int pings = 0;
    int closeCode = 0;
    Clock::time_point closedAt;
    Clock::time_point lastText;
};

class LoadClient {
public:
    explicit LoadClient(Options options)
        : m_options(std::move(options))
        , m_epoll(epoll_create1(EPOLL_CLOEXEC))
    {
        if (m_options.tls) {
            m_tls = SSL_CTX_new(TLS_client_method());
            SSL_CTX_set_verify(m_tls, SSL_VERIFY_NONE, nullptr);
            static const unsigned char alpn[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
            SSL_CTX_set_alpn_protos(m_tls, alpn, sizeof alpn);
        }
        if (m_epoll < 0)
            die("epoll_create1 failed");
        m_address.sin_family = AF_INET;
        m_address.sin_port = htons(uint16_t(m_options.port));
        if (inet_pton(AF_INET, m_options.host.c_str(), &m_address.sin_addr) != 1)
            die("bad host " + m_options.host);
    }

    int run()
    {
        const auto tokens = readLines(m_options.tokensFile);
        if (tokens.empty())
            die("no tokens");
        std::vector<std::pair<std::string, std::string>> targets; // user, token
        if (!m_options.revokeTokensFile.empty()) {
            for (const auto &line : readLines(m_options.revokeTokensFile)) {
                const auto space = line.find(' ');
                if (space == std::string::npos)
                    die("revoke tokens: \"user token\" per line");
                targets.emplace_back(line.substr(0, space), line.substr(space + 1));
            }
        }

        // What the server still does from an earlier scenario (closing its connections, say)
        // must not be counted in this one.
        waitUntilServerQuiet();
        const ProcessSample before = sample(m_options.serverPid);
        // 1. Handshakes: N connections, `concurrency` in flight.
        const auto start = Clock::now();
        std::vector<std::string> requests;
        requests.reserve(size_t(m_options.connections));
        for (int i = 0; i < m_options.connections; ++i)
            requests.push_back(upgradeRequest(tokens[size_t(i) % tokens.size()]));
        size_t next = 0;
        int failed = 0;
        while (next < requests.size() || m_inFlight > 0) {
            while (next < requests.size() && m_inFlight < m_options.concurrency)
                open(std::move(requests[next++]), -1);
            poll(1000);
        }
        const double connectSeconds = millisecondsSince(start) / 1000.0;
        const ProcessSample afterConnect = sample(m_options.serverPid);
        std::vector<double> latencies;
        for (const auto &connection : m_connections) {
            if (connection.state == Connection::State::Open)
                latencies.push_back(millisecondsSince(connection.started, connection.welcomed));
            else
                ++failed;
        }
        const int opened = int(latencies.size());
        if (m_options.expectRefusals) {
            // Forged tokens: what a refusal costs the server, beside what an acceptance costs.
            std::printf("{\"scenario\":\"refused\",\"label\":\"%s\",\"refused\":%d,\"accepted\":%d,"
                        "\"seconds\":%.3f,\"refusals_per_second\":%.0f,\"server_cpu_ms_per_refusal\":%.4f}\n",
                        m_options.label.c_str(), m_refused, opened, connectSeconds, m_refused / connectSeconds,
                        m_refused > 0 ? (afterConnect.cpuSeconds - before.cpuSeconds) * 1000.0 / m_refused : 0.0);
            return m_refused == m_options.connections ? 0 : 1;
        }
        std::printf("{\"scenario\":\"handshake\",\"label\":\"%s\",\"connections\":%d,\"failed\":%d,"
                    "\"seconds\":%.3f,\"handshakes_per_second\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
                    "\"server_cpu_ms_per_handshake\":%.4f}\n",
                    m_options.label.c_str(), opened, failed, connectSeconds, opened / connectSeconds,
                    percentile(latencies, 0.5), percentile(latencies, 0.99),
                    opened > 0 ? (afterConnect.cpuSeconds - before.cpuSeconds) * 1000.0 / opened : 0.0);
        std::fflush(stdout);

        // 2. Idle: what the server holds per connection, once it has settled.
        drainFor(m_options.settleMs);
        const ProcessSample idle = sample(m_options.serverPid);
        std::printf("{\"scenario\":\"idle\",\"label\":\"%s\",\"connections\":%d,\"rss_kib_before\":%ld,"
                    "\"rss_kib_idle\":%ld,\"rss_kib_per_connection\":%.2f}\n",
                    m_options.label.c_str(), opened, before.rssKiB, idle.rssKiB,
                    opened > 0 ? double(idle.rssKiB - before.rssKiB) / opened : 0.0);
        std::fflush(stdout);

        // 3. Revoke-to-closed: per repeat user, 10 devices connected, then one revocation.
        if (!targets.empty() && !m_options.revokeRequest.empty())
            revokeScenario(targets);

        // 4. Broadcast to everyone still connected.
        if (!m_options.broadcastRequest.empty())
            broadcastScenario(m_options.label);

        // 4b. Broadcasts again, without and then with inspectors on a few other connections.
        if (!m_options.broadcastRequest.empty() && !m_options.inspectReady.empty())
            inspectScenario();

        // 5. Pings: what answering silence costs the server, per ping.
        if (m_options.pingHoldMs > 0)
            pingScenario();

        if (m_options.holdMs > 0) {
            drainFor(m_options.holdMs);
            int stillOpen = 0;
            for (const auto &connection : m_connections)
                stillOpen += connection.state == Connection::State::Open;
            std::printf("{\"scenario\":\"hold\",\"label\":\"%s\",\"held_ms\":%d,\"open\":%d}\n",
                        m_options.label.c_str(), m_options.holdMs, stillOpen);
        }
        for (auto &connection : m_connections) {
            if (connection.fd >= 0)
                ::close(connection.fd);
        }
        return failed == 0 ? 0 : 1;
    }

private:
    std::string upgradeRequest(const std::string &token) const
    {
        return "GET " + replaced(m_options.pathTemplate, "{token}", token) + " HTTP/1.1\r\nHost: " + m_options.host
            + ":" + std::to_string(m_options.port)
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\nUser-Agent: gatehouse-loadclient\r\n\r\n";
    }

    size_t open(std::string request, int group, Connection::State state = Connection::State::Connecting)
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die(std::string("socket: ") + std::strerror(errno));
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Connection connection;
        connection.fd = fd;
        if (m_tls) {
            connection.ssl = SSL_new(m_tls);
            SSL_set_fd(connection.ssl, fd);
            SSL_set_connect_state(connection.ssl);
        } else {
            connection.handshaken = true;
        }
        connection.request = std::move(request);
        connection.started = Clock::now();
        connection.group = group;
        connection.state = state;
        connection.pending = state == Connection::State::Connecting;
        const int rc = ::connect(fd, reinterpret_cast<const sockaddr *>(&m_address), sizeof m_address);
        if (rc < 0 && errno != EINPROGRESS)
            die(std::string("connect: ") + std::strerror(errno));
        m_connections.push_back(std::move(connection));
        const size_t index = m_connections.size() - 1;
        epoll_event event {};
        event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
        event.data.u64 = index;
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
        if (state == Connection::State::Connecting)
            ++m_inFlight;
        return index;
    }

    void settle(Connection &connection)
    {
        if (std::exchange(connection.pending, false))
            --m_inFlight;
    }

    void poll(int timeoutMs)
    {
        epoll_event events[512];
        const int ready = epoll_wait(m_epoll, events, 512, timeoutMs);
        for (int i = 0; i < ready; ++i)
            handle(m_connections[events[i].data.u64], events[i].events);
    }

    void drainFor(int milliseconds)
    {
        const auto until = Clock::now() + std::chrono::milliseconds(milliseconds);
        while (Clock::now() < until)
            poll(int(std::max<double>(1, millisecondsSince(Clock::now(), until))));
    }

    /// Sends through TLS or straight; what could not go yet is left for the next EPOLLOUT.
    long sendSome(Connection &connection, const char *data, size_t size)
    {
        if (!connection.ssl)
            return ::send(connection.fd, data, size, MSG_NOSIGNAL);
        const int written = SSL_write(connection.ssl, data, int(size));
        return written > 0 ? written : -1;
    }

    /// Reads into `input` until it would block: 0 when the stream ended or failed.
    bool receiveAll(Connection &connection)
    {
        char buffer[16384];
        for (;;) {
            long received = 0;
            if (connection.ssl) {
                received = SSL_read(connection.ssl, buffer, sizeof buffer);
                if (received <= 0) {
                    const int error = SSL_get_error(connection.ssl, int(received));
                    ERR_clear_error();
                    return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
                }
            } else {
                received = ::recv(connection.fd, buffer, sizeof buffer, 0);
                if (received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                    return false;
                if (received < 0)
                    return true;
            }
            connection.input.append(buffer, size_t(received));
        }
    }

    void handle(Connection &connection, uint32_t events)
    {
        if (connection.fd < 0)
            return;
        if (!connection.handshaken) {
            const int done = SSL_do_handshake(connection.ssl);
            if (done != 1) {
                const int error = SSL_get_error(connection.ssl, done);
                ERR_clear_error();
                if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
                    std::fprintf(stderr, "TLS handshake failed\n");
                    return finish(connection);
                }
                return;
            }
            connection.handshaken = true;
            events |= EPOLLOUT; // the request goes now
        }
        if ((events & EPOLLOUT) && !connection.request.empty()) {
            const auto written = sendSome(connection, connection.request.data(), connection.request.size());
            if (written > 0)
                connection.request.erase(0, size_t(written));
            if (connection.request.empty()) {
                epoll_event event {};
                event.events = EPOLLIN | EPOLLRDHUP;
                event.data.u64 = size_t(&connection - m_connections.data());
                epoll_ctl(m_epoll, EPOLL_CTL_MOD, connection.fd, &event);
                if (connection.state == Connection::State::Connecting)
                    connection.state = Connection::State::AwaitingUpgrade;
            }
        }
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            if (!receiveAll(connection))
                return finish(connection);
            parse(connection);
        }
    }

    /// Waits (up to 15 s) until the server has used at most one clock tick of CPU in each of
    /// two consecutive quarter seconds.
    void waitUntilServerQuiet() const
    {
        if (m_options.serverPid <= 0)
            return;
        int quietWindows = 0;
        double last = sample(m_options.serverPid).cpuSeconds;
        for (int i = 0; i < 60 && quietWindows < 2; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            const double now = sample(m_options.serverPid).cpuSeconds;
            quietWindows = now - last <= 0.0105 ? quietWindows + 1 : 0;
            last = now;
        }
    }

    void finish(Connection &connection)
    {
        parse(connection);
        settle(connection);
        if (connection.state != Connection::State::Http && connection.closedAt == Clock::time_point {})
            connection.closedAt = Clock::now();
        connection.state
            = connection.state == Connection::State::Http ? Connection::State::Http : Connection::State::Closed;
        closeSocket(connection);
    }

    void closeSocket(Connection &connection)
    {
        if (connection.ssl) {
            SSL_free(connection.ssl);
            connection.ssl = nullptr;
        }
        ::close(connection.fd);
        connection.fd = -1;
    }

    void parse(Connection &connection)
    {
        if (connection.state == Connection::State::AwaitingUpgrade) {
            const auto end = connection.input.find("\r\n\r\n");
            if (end == std::string::npos)
                return;
            if (connection.input.rfind("HTTP/1.1 101", 0) != 0) {
                if (m_options.expectRefusals && connection.input.rfind("HTTP/1.1 401", 0) == 0)
                    ++m_refused;
                else
                    std::fprintf(stderr, "refused: %s\n",
                                 connection.input.substr(0, connection.input.find("\r\n")).c_str());
                connection.state = Connection::State::Closed;
                settle(connection);
                closeSocket(connection);
                return;
            }
            connection.input.erase(0, end + 4);
            connection.state = Connection::State::Open;
        }
        if (connection.state != Connection::State::Open)
            return;
        // Server frames: FIN+opcode, length (7, 16 or 64 bits), no mask.
        while (connection.input.size() >= 2) {
            const auto *bytes = reinterpret_cast<const unsigned char *>(connection.input.data());
            const int opcode = bytes[0] & 0x0f;
            uint64_t length = bytes[1] & 0x7f;
            size_t header = 2;
            if (length == 126) {
                if (connection.input.size() < 4)
                    return;
                length = (uint64_t(bytes[2]) << 8) | bytes[3];
                header = 4;
            } else if (length == 127) {
                if (connection.input.size() < 10)
                    return;
                length = 0;
                for (int i = 0; i < 8; ++i)
                    length = (length << 8) | bytes[2 + i];
                header = 10;
            }
            if (connection.input.size() < header + length)
                return;
            const auto now = Clock::now();
            if (opcode == 1) {
                if (connection.textMessages++ == 0) {
                    connection.welcomed = now; // authenticated and greeted: the handshake is done
                    settle(connection);
                }
                connection.lastText = now;
            } else if (opcode == 9) {
                // A pong with the ping's payload (RFC 6455 §5.5.3), masked (§5.3) with a zero key.
                std::string pong { char(0x8A), char(0x80 | length), 0, 0, 0, 0 };
                pong.append(connection.input, header, length);
                [[maybe_unused]] const auto sent = sendSome(connection, pong.data(), pong.size());
                ++connection.pings;
            } else if (opcode == 8) {
                connection.closeCode = length >= 2 ? (bytes[header] << 8) | bytes[header + 1] : 1005;
                connection.closedAt = now;
            }
            connection.input.erase(0, header + length);
        }
    }

    void revokeScenario(const std::vector<std::pair<std::string, std::string>> &targets)
    {
        std::map<std::string, int> groups;
        for (const auto &[user, token] : targets) {
            const auto [it, inserted] = groups.try_emplace(user, int(groups.size()));
            open(upgradeRequest(token), it->second);
        }
        while (m_inFlight > 0)
            poll(1000);
        std::vector<double> latencies;
        int repeats = 0;
        for (const auto &[user, group] : groups) {
            std::vector<size_t> members;
            for (size_t i = 0; i < m_connections.size(); ++i) {
                if (m_connections[i].group == group && m_connections[i].state == Connection::State::Open)
                    members.push_back(i);
            }
            if (members.empty())
                continue;
            drainFor(50);
            const auto start = Clock::now();
            open(replaced(m_options.revokeRequest, "{user}", user), -1, Connection::State::Http);
            const auto deadline = start + std::chrono::seconds(5);
            auto allClosed = [&] {
                return std::all_of(members.begin(), members.end(),
                                   [&](size_t i) { return m_connections[i].closedAt != Clock::time_point {}; });
            };
            while (!allClosed() && Clock::now() < deadline)
                poll(5);
            if (!allClosed()) {
                std::fprintf(stderr, "revoke of %s: not every connection closed\n", user.c_str());
                continue;
            }
            Clock::time_point last = start;
            int code = 0;
            for (size_t i : members) {
                last = std::max(last, m_connections[i].closedAt);
                code = m_connections[i].closeCode;
            }
            latencies.push_back(millisecondsSince(start, last));
            ++repeats;
            std::fprintf(stderr, "revoke %s: %zu closed (code %d) in %.3f ms\n", user.c_str(), members.size(), code,
                         latencies.back());
        }
        std::printf("{\"scenario\":\"revoke\",\"label\":\"%s\",\"repeats\":%d,\"devices\":%zu,\"p50_ms\":%.3f,"
                    "\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
                    m_options.label.c_str(), repeats, targets.size() / std::max<size_t>(1, groups.size()),
                    percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1.0));
        std::fflush(stdout);
    }

    /// Rounds of broadcasts with no inspector open, then (once another process has opened its
    /// inspectors and made `inspectReady`) as many again: the server's CPU per delivered
    /// message, median of each. An uninspected connection's message should cost the same. A
    /// round is 20 broadcasts, so that /proc's 10 ms ticks are a small part of what it measures.
    void inspectScenario()
    {
        constexpr int rounds = 7;
        constexpr int broadcastsPerRound = 20;
        const auto median = [](std::vector<double> values) {
            std::sort(values.begin(), values.end());
            return values.empty() ? 0.0 : values[values.size() / 2];
        };
        std::vector<double> plain;
        for (int round = 0; round < rounds; ++round)
            plain.push_back(broadcastRound(m_options.label + "-plain", broadcastsPerRound));
        std::ofstream(m_options.inspectReady + ".waiting").put('\n');
        const auto deadline = Clock::now() + std::chrono::seconds(60);
        while (!std::ifstream(m_options.inspectReady) && Clock::now() < deadline)
            drainFor(100);
        if (!std::ifstream(m_options.inspectReady)) {
            std::fprintf(stderr, "no inspectors opened within 60 s\n");
            return;
        }
        drainFor(500);
        std::vector<double> inspected;
        for (int round = 0; round < rounds; ++round)
            inspected.push_back(broadcastRound(m_options.label + "-inspected", broadcastsPerRound));
        const double before = median(plain);
        const double during = median(inspected);
        const auto [plainLow, plainHigh] = std::minmax_element(plain.begin(), plain.end());
        const auto [inspectedLow, inspectedHigh] = std::minmax_element(inspected.begin(), inspected.end());
        std::printf("{\"scenario\":\"inspect_cost\",\"label\":\"%s\",\"rounds\":%d,"
                    "\"server_cpu_us_per_message_plain\":%.3f,\"server_cpu_us_per_message_inspected\":%.3f,"
                    "\"plain_min\":%.3f,\"plain_max\":%.3f,\"inspected_min\":%.3f,\"inspected_max\":%.3f,"
                    "\"difference_percent\":%.2f}\n",
                    m_options.label.c_str(), rounds, before, during, *plainLow, *plainHigh, *inspectedLow,
                    *inspectedHigh, before > 0 ? (during - before) * 100 / before : 0.0);
        std::fflush(stdout);
    }

    /// `times` broadcasts to everyone open, one after the other (each delivered to all before
    /// the next); the server's CPU per delivered message (µs).
    double broadcastRound(const std::string &label, int times)
    {
        std::vector<size_t> open;
        for (size_t i = 0; i < m_connections.size(); ++i) {
            if (m_connections[i].state == Connection::State::Open
                && m_connections[i].closedAt == Clock::time_point {})
                open.push_back(i);
        }
        drainFor(200);
        const ProcessSample cpuBefore = sample(m_options.serverPid);
        const auto start = Clock::now();
        size_t delivered = 0;
        for (int time = 0; time < times; ++time) {
            std::vector<int> before;
            for (const size_t i : open)
                before.push_back(m_connections[i].textMessages);
            this->open(m_options.broadcastRequest, -1, Connection::State::Http);
            const auto deadline = Clock::now() + std::chrono::seconds(30);
            size_t reached = 0;
            while (Clock::now() < deadline && reached < open.size()) {
                poll(5);
                reached = 0;
                for (size_t k = 0; k < open.size(); ++k)
                    reached += m_connections[open[k]].textMessages > before[k];
            }
            delivered += reached;
        }
        const ProcessSample cpuAfter = sample(m_options.serverPid);
        const double perMessage
            = delivered > 0 ? (cpuAfter.cpuSeconds - cpuBefore.cpuSeconds) * 1e6 / double(delivered) : 0.0;
        std::printf("{\"scenario\":\"broadcast_round\",\"label\":\"%s\",\"broadcasts\":%d,\"receivers\":%zu,"
                    "\"delivered\":%zu,\"ms\":%.1f,\"server_cpu_us_per_message\":%.3f}\n",
                    label.c_str(), times, open.size(), delivered, millisecondsSince(start, Clock::now()), perMessage);
        std::fflush(stdout);
        return perMessage;
    }

    /// One broadcast to everyone open; the server's CPU per delivered message (µs).
    double broadcastScenario(const std::string &label)
    {
        std::vector<size_t> open;
        std::vector<int> before;
        for (size_t i = 0; i < m_connections.size(); ++i) {
            // (a connection closed by a revocation may still be half open: the peer's close)
            if (m_connections[i].state == Connection::State::Open
                && m_connections[i].closedAt == Clock::time_point {}) {
                open.push_back(i);
                before.push_back(m_connections[i].textMessages);
            }
        }
        drainFor(200);
        const ProcessSample cpuBefore = sample(m_options.serverPid);
        const auto start = Clock::now();
        this->open(m_options.broadcastRequest, -1, Connection::State::Http);
        const auto deadline = start + std::chrono::seconds(30);
        size_t delivered = 0;
        while (Clock::now() < deadline) {
            poll(5);
            delivered = 0;
            for (size_t k = 0; k < open.size(); ++k)
                delivered += m_connections[open[k]].textMessages > before[k];
            if (delivered == open.size())
                break;
        }
        Clock::time_point last = start;
        for (size_t k = 0; k < open.size(); ++k) {
            if (m_connections[open[k]].textMessages > before[k])
                last = std::max(last, m_connections[open[k]].lastText);
        }
        drainFor(300);
        const ProcessSample cpuAfter = sample(m_options.serverPid);
        const double perMessage
            = delivered > 0 ? (cpuAfter.cpuSeconds - cpuBefore.cpuSeconds) * 1e6 / double(delivered) : 0.0;
        std::printf("{\"scenario\":\"broadcast\",\"label\":\"%s\",\"receivers\":%zu,\"delivered\":%zu,"
                    "\"all_delivered_ms\":%.3f,\"server_cpu_us_per_message\":%.3f}\n",
                    label.c_str(), open.size(), delivered, millisecondsSince(start, last), perMessage);
        std::fflush(stdout);
        return perMessage;
    }

    /// Holds every connection idle twice for pingHoldMs, measuring the server's CPU time: first
    /// as configured (the bench starts the server with pings an hour apart), then after
    /// pingRequest has made it ping every few seconds. The difference, per ping answered, is
    /// what a ping costs the server, sweep included.
    void pingScenario()
    {
        const auto openCount = [this] {
            int count = 0;
            for (const auto &connection : m_connections)
                count += connection.state == Connection::State::Open && connection.closedAt == Clock::time_point {};
            return count;
        };
        const auto pingCount = [this] {
            long count = 0;
            for (const auto &connection : m_connections)
                count += connection.pings;
            return count;
        };
        const int connections = openCount();
        const ProcessSample quietStart = sample(m_options.serverPid);
        drainFor(m_options.pingHoldMs);
        const ProcessSample quietEnd = sample(m_options.serverPid);
        if (!m_options.pingRequest.empty()) {
            const size_t request = open(m_options.pingRequest, -1, Connection::State::Http);
            const auto deadline = Clock::now() + std::chrono::seconds(5);
            while (m_connections[request].fd >= 0 && Clock::now() < deadline)
                poll(5);
        }
        const long pingsBefore = pingCount();
        const ProcessSample pingingStart = sample(m_options.serverPid);
        drainFor(m_options.pingHoldMs);
        const ProcessSample pingingEnd = sample(m_options.serverPid);
        const long pings = pingCount() - pingsBefore;
        const double quietMs = (quietEnd.cpuSeconds - quietStart.cpuSeconds) * 1000.0;
        const double pingingMs = (pingingEnd.cpuSeconds - pingingStart.cpuSeconds) * 1000.0;
        const double perPingUs = pings > 0 ? std::max(0.0, pingingMs - quietMs) * 1000.0 / double(pings) : 0.0;
        std::printf("{\"scenario\":\"pings\",\"label\":\"%s\",\"connections\":%d,\"held_ms\":%d,"
                    "\"pings\":%ld,\"still_open\":%d,\"server_cpu_ms_quiet\":%.1f,\"server_cpu_ms_pinging\":%.1f,"
                    "\"server_cpu_us_per_ping\":%.3f}\n",
                    m_options.label.c_str(), connections, m_options.pingHoldMs, pings, openCount(), quietMs, pingingMs,
                    perPingUs);
        std::fflush(stdout);
    }

    Options m_options;
    int m_epoll;
    SSL_CTX *m_tls = nullptr; ///< with --tls: one client context for every connection
    sockaddr_in m_address {};
    std::vector<Connection> m_connections;
    int m_inFlight = 0;
    int m_refused = 0;
};

Options parse(int argc, char **argv)
{
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string name = argv[i];
        if (i + 1 >= argc)
            die("missing value for " + name);
        const std::string value = argv[++i];
        if (name == "--host")
            options.host = value;
        else if (name == "--port")
            options.port = std::stoi(value);
        else if (name == "--server-pid")
            options.serverPid = std::stoi(value);
        else if (name == "--path")
            options.pathTemplate = value;
        else if (name == "--tokens")
            options.tokensFile = value;
        else if (name == "--connections")
            options.connections = std::stoi(value);
        else if (name == "--concurrency")
            options.concurrency = std::stoi(value);
        else if (name == "--revoke-tokens")
            options.revokeTokensFile = value;
        else if (name == "--revoke-request")
            options.revokeRequest = replaced(value, "\\r\\n", "\r\n");
        else if (name == "--broadcast-request")
            options.broadcastRequest = replaced(value, "\\r\\n", "\r\n");
        else if (name == "--settle-ms")
            options.settleMs = std::stoi(value);
        else if (name == "--hold-ms")
            options.holdMs = std::stoi(value);
        else if (name == "--label")
            options.label = value;
        else if (name == "--expect-refusals")
            options.expectRefusals = value == "1";
        else if (name == "--tls")
            options.tls = value == "1";
        else if (name == "--ping-hold-ms")
            options.pingHoldMs = std::stoi(value);
        else if (name == "--ping-request")
            options.pingRequest = replaced(value, "\\r\\n", "\r\n");
        else if (name == "--inspect-ready")
            options.inspectReady = value;
        else
            die("unknown option " + name);
    }
    if (options.port <= 0 || options.tokensFile.empty())
        die("usage: loadclient --port P --tokens FILE [--connections N] [--server-pid PID] ...");
    return options;
}
} // namespace

int main(int argc, char **argv)
{
    // OpenSSL writes with write(): a server that closes a connection must not end the client.
    std::signal(SIGPIPE, SIG_IGN);
    return LoadClient(parse(argc, argv)).run();
}
