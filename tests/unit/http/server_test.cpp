// The Beast server on 127.0.0.1 port 0 with real sockets: connections past max_connections and
// bodies past the in-flight budget are answered 503, and running out of file descriptors pauses
// accepting (logged once) instead of ending it.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <boost/json.hpp>

#include "crm/http/auth.hpp"
#include "crm/http/server.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"
#include "crm/store/web_store.hpp"
#include "fake_control.hpp"

namespace crm::http {
namespace {

using namespace std::chrono_literals;

int connect_to(std::uint16_t port, int fd = -1) {
    if (fd < 0)
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0)
        << std::strerror(errno);
    return fd;
}

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        ASSERT_GT(n, 0) << std::strerror(errno);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

bool readable(int fd, std::chrono::milliseconds within) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(within.count())) == 1;
}

// One response: the header and Content-Length bytes of body; "" when none came within 5 s.
std::string read_response(int fd) {
    std::string in;
    char buf[4096];
    while (readable(fd, 5s)) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        in.append(buf, static_cast<std::size_t>(n));
        const auto end = in.find("\r\n\r\n");
        if (end == std::string::npos)
            continue;
        const auto cl = in.find("Content-Length: ");
        const auto length = cl < end ? std::stoul(in.substr(cl + 16)) : 0;
        if (in.size() >= end + 4 + length)
            break;
    }
    return in;
}

std::string body_of(const std::string& response) {
    const auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

class ServerTest : public ::testing::Test {
  protected:
    FakeControl control;
    Api api{ApiOptions{}, [] { return fail("db.open", "no database in this test"); }, control};
    std::unique_ptr<Server> server;
    std::mutex log_mu;
    std::vector<std::string> log_lines;
    std::vector<int> fds;

    void start(ServerOptions o = {}) {
        o.log = [this](LogLevel, const LogContext&, std::string_view, std::string_view m) {
            std::lock_guard lock(log_mu);
            log_lines.emplace_back(m);
        };
        server = std::make_unique<Server>(api, std::move(o));
        ASSERT_TRUE(server->start("127.0.0.1", 0));
    }
    void TearDown() override {
        for (int fd : fds)
            ::close(fd);
        server.reset();
    }
    int connect() { return fds.emplace_back(connect_to(server->port())); }
    [[nodiscard]] std::string request(const std::string& method, std::size_t length = 0) const {
        return fmt::format(
            "{} /healthz HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\r\n", method,
            server->port(), length);
    }
    int logged(std::string_view fragment) {
        std::lock_guard lock(log_mu);
        return static_cast<int>(
            std::count_if(log_lines.begin(), log_lines.end(), [&](const std::string& l) {
                return l.find(fragment) != std::string::npos;
            }));
    }
};

void expect_unavailable(const std::string& response, std::string_view message) {
    EXPECT_TRUE(response.starts_with("HTTP/1.1 503 ")) << response;
    EXPECT_NE(response.find("\r\nRetry-After: 1\r\n"), std::string::npos) << response;
    EXPECT_NE(response.find("\r\nConnection: close\r\n"), std::string::npos) << response;
    auto v = boost::json::parse(body_of(response));
    EXPECT_EQ(v.at("error").at("code").as_string(), "unavailable");
    EXPECT_EQ(v.at("error").at("message").as_string(), message);
}

TEST_F(ServerTest, AnswersPastMaxConnectionsWith503) {
    ServerOptions o;
    o.max_connections = 2;
    start(o);
    const int a = connect(), b = connect();
    for (int fd : {a, b}) { // served, and kept open
        send_all(fd, request("GET"));
        EXPECT_TRUE(read_response(fd).starts_with("HTTP/1.1 200 "));
    }
    const int c = connect();
    send_all(c, request("GET"));
    expect_unavailable(read_response(c), "too many connections: try again shortly");
    char byte;
    EXPECT_EQ(::recv(c, &byte, 1, 0), 0); // and closed

    // A slot frees when a connection closes (the server notices a moment later).
    ::shutdown(a, SHUT_RDWR);
    std::string answer;
    for (auto until = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < until && !answer.starts_with("HTTP/1.1 200 ");) {
        const int d = connect();
        send_all(d, request("GET"));
        answer = read_response(d);
    }
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 ")) << answer;
}

// Each request reserves its Content-Length when its header is in; one that does not fit is
// answered before a byte of its body is sent.
TEST_F(ServerTest, RefusesBodiesPastTheBudgetBeforeReadingThem) {
    ServerOptions o;
    o.body_limit = 64 * 1024;
    o.max_body_bytes_in_flight = 100 * 1024;
    start(o);
    const std::string body(60000, 'x');
    const int a = connect(), b = connect();
    send_all(a, request("POST", body.size()));
    send_all(b, request("POST", body.size()));
    // Whichever header the server read second does not fit next to the first.
    pollfd both[] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    ASSERT_EQ(::poll(both, 2, 5000), 1);
    const bool a_refused = both[0].revents != 0;
    const int refused = a_refused ? a : b, held = a_refused ? b : a;
    expect_unavailable(read_response(refused),
                       "too many request bodies in flight: try again shortly");
    EXPECT_FALSE(readable(held, 200ms)); // waits for its body
    send_all(held, body);
    EXPECT_TRUE(read_response(held).starts_with("HTTP/1.1 200 "));

    // Handled: its bytes are free again, for two bodies in turn on one connection.
    const int c = connect();
    for (int i = 0; i < 2; ++i) {
        send_all(c, request("POST", body.size()) + body);
        EXPECT_TRUE(read_response(c).starts_with("HTTP/1.1 200 "));
    }
    // Bodies larger than the budget allows are still 413, not 503.
    const int d = connect();
    send_all(d, request("POST", o.body_limit + 1));
    EXPECT_TRUE(read_response(d).starts_with("HTTP/1.1 413 "));
}

// A mail with attachments may be larger than any other request, for a logged-in user only: the
// server checks the token before it reads such a body, and answers 413 naming the limit otherwise.
TEST(ServerLargeBodies, OnlyALoggedInUsersMailMayBeLarge) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("crm_server_large_" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path);
    {
        auto db = store::Database::open(path.string());
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->migrate());
        {
            SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
            raw.exec("INSERT INTO users (id, name, email, role, created_at, updated_at) VALUES "
                     "(1, 'Alice', 'alice@team.test', 'salesperson', 0, 0)");
        }
        store::WebStore ws(**db);
        ASSERT_TRUE(ws.create_token(1, "crm", token_hash("good-token"), 1));
    }
    FakeControl control;
    ApiOptions options;
    options.compose = ComposeLimits{1u << 20, 3u << 20};
    Api api(options, store::backend_opener(path.string()), control);
    Server server(api, ServerOptions{});
    ASSERT_TRUE(server.start("127.0.0.1", 0));
    const std::string body = R"({"account":"x","to":["a@b.test"],"subject":"s","body":")" +
                             std::string(3u << 20, 'x') + R"("})";
    auto post = [&](const std::string& target, const std::string& token) {
        const int fd = connect_to(server.port());
        const std::string auth =
            token.empty() ? std::string() : fmt::format("Authorization: Bearer {}\r\n", token);
        send_all(fd, fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Content-Type: "
                                 "application/json\r\nContent-Length: {}\r\n\r\n",
                                 target, server.port(), auth, body.size()));
        // The answer may come before the body (a refusal): send it only when none came.
        std::string answer;
        if (!readable(fd, 500ms)) {
            send_all(fd, body);
            answer = read_response(fd);
        } else {
            answer = read_response(fd);
        }
        ::close(fd);
        return answer;
    };
    const auto ok = post("/api/v1/deals/10/mail", "good-token");
    EXPECT_TRUE(ok.starts_with("HTTP/1.1 404 ")) << ok.substr(0, 300); // read, then: no deal 10
    const auto forged = post("/api/v1/deals/10/mail", "forged-token");
    EXPECT_TRUE(forged.starts_with("HTTP/1.1 401 ")) << forged.substr(0, 300);
    EXPECT_NE(forged.find("auth.required"), std::string::npos) << forged;
    const auto anonymous = post("/api/v1/deals/10/mail", "");
    EXPECT_TRUE(anonymous.starts_with("HTTP/1.1 413 ")) << anonymous.substr(0, 300);
    EXPECT_NE(anonymous.find("larger than 2097152 bytes"), std::string::npos) << anonymous;
    const auto other = post("/api/v1/threads/1/read", "good-token");
    EXPECT_TRUE(other.starts_with("HTTP/1.1 413 ")) << other.substr(0, 300);
    server.stop();
    for (const char* ext : {"", "-wal", "-shm"})
        std::filesystem::remove(path.string() + ext);
}

// Restores the file descriptor limit and closes the filler descriptors, also when a check fails.
struct FdExhaustion {
    rlimit saved{};
    std::vector<int> filler;

    // Fills the descriptor table (up to a limit of 512) with copies of `fd`.
    explicit FdExhaustion(int fd) {
        ::getrlimit(RLIMIT_NOFILE, &saved);
        rlimit low = saved;
        low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 512);
        ::setrlimit(RLIMIT_NOFILE, &low);
        for (int copy; (copy = ::dup(fd)) >= 0;)
            filler.push_back(copy);
        EXPECT_EQ(errno, EMFILE);
    }
    void end() {
        for (int fd : filler)
            ::close(fd);
        filler.clear();
        ::setrlimit(RLIMIT_NOFILE, &saved);
    }
    ~FdExhaustion() { end(); }
    FdExhaustion(const FdExhaustion&) = delete;
    FdExhaustion& operator=(const FdExhaustion&) = delete;
};

TEST_F(ServerTest, KeepsAcceptingAfterRunningOutOfFileDescriptors) {
    start();
    EXPECT_EQ(server->accept_failing_for(), std::chrono::steady_clock::duration::zero());
    const int client = fds.emplace_back(::socket(AF_INET, SOCK_STREAM, 0));
    FdExhaustion full(client);
    // The connection waits in the listen queue; accept fails with EMFILE, again and again.
    connect_to(server->port(), client);
    send_all(client, request("GET"));
    for (auto until = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < until && server->accept_failing_for() < 500ms;)
        std::this_thread::sleep_for(10ms);
    EXPECT_GE(server->accept_failing_for(), 500ms); // 50 + 100 + 200 ms: four attempts at least
    EXPECT_FALSE(readable(client, 0ms));
    EXPECT_EQ(logged("cannot accept connections: Too many open files"), 1);

    full.end();
    EXPECT_TRUE(read_response(client).starts_with("HTTP/1.1 200 ")); // within the 1 s backoff
    EXPECT_EQ(server->accept_failing_for(), std::chrono::steady_clock::duration::zero());
    EXPECT_EQ(logged("cannot accept connections"), 1);
    EXPECT_EQ(logged("accepting connections again after"), 1);
    const int again = connect();
    send_all(again, request("GET"));
    EXPECT_TRUE(read_response(again).starts_with("HTTP/1.1 200 "));
}

} // namespace
} // namespace crm::http
