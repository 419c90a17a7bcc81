#pragma once
// A scripted SMTP server on 127.0.0.1 (port chosen by the kernel), plaintext, one thread,
// connections served one after another. It records what the client sent.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace crm::smtp::test {

struct Script {
    std::string greeting = "220 fake.example ESMTP\r\n";
    std::string ehlo = "250-fake.example\r\n250-AUTH CRAM-MD5 DIGEST-MD5 PLAIN\r\n250 8BITMIME\r\n";
    std::string auth = "235 2.7.0 ok\r\n"; // the reply to AUTH PLAIN (after its 334 if no IR)
    std::string mail = "250 2.1.0 ok\r\n";
    std::map<std::string, std::string> rcpt; // address -> reply; default "250 2.1.5 ok"
    std::string data = "354 go ahead\r\n";
    std::string end_of_data = "250 2.0.0 queued as 42\r\n";
    bool drop_at_data = false;   // close instead of replying to DATA
    bool drop_after_dot = false; // read the message, then close without a reply
    bool drop_after_354 = false; // reply 354 to DATA, then close without reading
};

class FakeSmtpServer {
  public:
    explicit FakeSmtpServer(Script script);
    ~FakeSmtpServer();
    FakeSmtpServer(const FakeSmtpServer &) = delete;
    FakeSmtpServer &operator=(const FakeSmtpServer &) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    // Stops the thread (accepting whatever connection is already queued, so that a client that
    // connected is counted), then the recordings below are final.
    void stop();

    [[nodiscard]] int connections() const { return connections_.load(); }
    // Command lines as received (without CRLF), AUTH responses included.
    [[nodiscard]] std::vector<std::string> commands() const;
    // The DATA contents of each message, as on the wire (dot-stuffed), up to and including the
    // CRLF before the terminating ".\r\n".
    [[nodiscard]] std::vector<std::string> messages() const;

  private:
    void run();
    void serve(int fd);

    Script script_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mu_;
    std::vector<std::string> commands_;
    std::vector<std::string> messages_;
    std::thread thread_;
};

// Undoes dot-stuffing (RFC 5321 4.5.2): a line starting with "." loses that dot.
std::string unstuff(const std::string &wire);

} // namespace crm::smtp::test
