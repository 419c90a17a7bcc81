#include "fake_smtp_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <stdexcept>

namespace crm::smtp::test {

namespace {

// A connection with a read buffer; every wait is bounded so a confused client cannot hang tests.
class Conn {
  public:
    explicit Conn(int fd) : fd_(fd) {}
    ~Conn() { ::close(fd_); }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;

    bool send_all(const std::string &s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            off += static_cast<std::size_t>(n);
        }
        return true;
    }
    // Reads until `delim` is in the buffer; returns everything up to and including it.
    bool read_until(const std::string &delim, std::string &out) {
        for (;;) {
            auto pos = buf_.find(delim);
            if (pos != std::string::npos) {
                out = buf_.substr(0, pos + delim.size());
                buf_.erase(0, pos + delim.size());
                return true;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 10'000) <= 0)
                return false;
            char tmp[4096];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0)
                return false;
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }
    bool read_line(std::string &line) {
        if (!read_until("\r\n", line))
            return false;
        line.resize(line.size() - 2);
        return true;
    }

  private:
    int fd_;
    std::string buf_;
};

std::string upper(std::string s) {
    for (auto &c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

std::string unstuff(const std::string &wire) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < wire.size(); ++i) {
        if (line_start && wire[i] == '.') {
            line_start = false;
            continue;
        }
        out += wire[i];
        line_start = wire[i] == '\n' && i > 0 && wire[i - 1] == '\r';
    }
    return out;
}

FakeSmtpServer::FakeSmtpServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0)
        throw std::runtime_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 8) != 0)
        throw std::runtime_error("bind/listen");
    socklen_t len = sizeof a;
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0)
        throw std::runtime_error("getsockname");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
}

FakeSmtpServer::~FakeSmtpServer() {
    stop();
    ::close(listen_fd_);
}

void FakeSmtpServer::stop() {
    stop_ = true;
    if (thread_.joinable())
        thread_.join();
}

std::vector<std::string> FakeSmtpServer::commands() const {
    std::lock_guard lock(mu_);
    return commands_;
}

std::vector<std::string> FakeSmtpServer::messages() const {
    std::lock_guard lock(mu_);
    return messages_;
}

void FakeSmtpServer::run() {
    for (;;) {
        bool stopping = stop_.load();
        pollfd p{listen_fd_, POLLIN, 0};
        int r = ::poll(&p, 1, stopping ? 0 : 20);
        if (r > 0) {
            int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd >= 0) {
                ++connections_;
                serve(fd);
            }
            continue;
        }
        if (stopping)
            return;
    }
}

void FakeSmtpServer::serve(int fd) {
    Conn c(fd);
    auto record = [&](const std::string &line) {
        std::lock_guard lock(mu_);
        commands_.push_back(line);
    };
    if (!c.send_all(script_.greeting))
        return;
    std::string line;
    while (c.read_line(line)) {
        record(line);
        std::string cmd = upper(line.substr(0, line.find(' ')));
        if (cmd == "EHLO" || cmd == "HELO") {
            c.send_all(script_.ehlo);
        } else if (cmd == "AUTH") {
            std::string mech = upper(line.size() > 5 ? line.substr(5) : "");
            if (mech == "PLAIN") { // no initial response: ask for it
                c.send_all("334 \r\n");
                if (!c.read_line(line))
                    return;
                record(line);
                c.send_all(script_.auth);
            } else if (mech.starts_with("PLAIN ")) {
                c.send_all(script_.auth);
            } else {
                c.send_all("504 5.5.4 mechanism not offered by this test\r\n");
            }
        } else if (cmd == "MAIL") {
            c.send_all(script_.mail);
        } else if (cmd == "RCPT") {
            auto lt = line.find('<');
            auto gt = line.find('>', lt == std::string::npos ? 0 : lt);
            std::string addr = lt != std::string::npos && gt != std::string::npos
                                   ? line.substr(lt + 1, gt - lt - 1)
                                   : line;
            auto it = script_.rcpt.find(addr);
            c.send_all(it != script_.rcpt.end() ? it->second : "250 2.1.5 ok\r\n");
        } else if (cmd == "DATA") {
            if (script_.drop_at_data)
                return;
            c.send_all(script_.data);
            if (!script_.data.starts_with("354"))
                continue;
            if (script_.drop_after_354)
                return;
            // Lines until one that is exactly "." (the first one for an empty message).
            std::string wire;
            for (;;) {
                std::string l;
                if (!c.read_until("\r\n", l))
                    return;
                if (l == ".\r\n")
                    break;
                wire += l;
            }
            {
                std::lock_guard lock(mu_);
                messages_.push_back(wire);
            }
            if (script_.drop_after_dot)
                return;
            c.send_all(script_.end_of_data);
        } else if (cmd == "QUIT") {
            c.send_all("221 2.0.0 bye\r\n");
            return;
        } else if (cmd == "RSET" || cmd == "NOOP") {
            c.send_all("250 2.0.0 ok\r\n");
        } else {
            c.send_all("500 5.5.1 unknown command\r\n");
        }
    }
}

} // namespace crm::smtp::test
