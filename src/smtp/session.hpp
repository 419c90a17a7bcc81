#pragma once
// The SMTP reply reader: what a session with the server looked like, rebuilt from what
// net::smtp_transfer reports (libcurl's debug callback). Internal to the smtp module (and its
// fuzz target, smtp_reply_fuzz).

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::smtp::detail {

inline constexpr std::size_t kMaxReplyText = 512; // per reply, after sanitising

// Server text made safe to show and log: printable ASCII (others as \xNN), at most
// kMaxReplyText bytes in `out`.
void append_printable(std::string& out, std::string_view s);

struct Reply {
    int code = 0;
    std::string text;
};

enum class Verb { Ehlo, Helo, StartTls, Auth, SaslResponse, Mail, Rcpt, Data, Quit, Other };

[[nodiscard]] Verb verb_of(std::string_view line);

// What the session looked like, reconstructed from libcurl's debug callback: the server's reply
// lines (CURLINFO_HEADER_IN) matched in order to the commands libcurl sent (CURLINFO_HEADER_OUT,
// of which only the verb is looked at: AUTH lines and SASL responses carry credentials, and
// nothing of an outgoing line is stored). SMTP without PIPELINING (libcurl 7.88 does not
// pipeline) gives each command exactly one reply, so a FIFO of verbs is enough. The end of
// DATA (".") is written by libcurl without a debug event: the first reply after DATA's 354
// with no command pending is the reply to the end of data.
struct Session {
    // Inputs.
    bool need_auth = false; // a username is configured
    bool starttls = false;  // Tls::StartTls: capabilities count only after the upgrade
    int sock = -1;          // the connection's socket, once net::smtp_transfer reports it

    std::deque<Verb> pending;
    std::string in_buf;     // partial incoming line
    std::string reply_text; // text of the lines of the reply being read
    bool expect_sasl_response = false;
    bool auth_offered = false; // in the EHLO reply being read
    bool tls_up = false;
    bool auth_ok = false;
    bool no_auth_offered = false; // we cut the connection: credentials set, no AUTH offered
    std::optional<Reply> greeting;
    std::optional<Reply> auth_reply;
    std::optional<Reply> mail;
    std::vector<Reply> rcpts;
    std::optional<Reply> data;
    std::optional<Reply> end_of_data;
    std::string last_line;        // last reply line seen, for protocol errors
    std::optional<Reply> closing; // a 421 (service not available, closing) at any point

    // Upload progress (read callback).
    std::string_view body;
    std::size_t offset = 0;
    bool upload_complete = false;
    // Called once before the last bytes are handed over (send()'s before_end_of_data).
    const std::function<bool()>* before_end = nullptr;
    bool end_announced = false;
    bool end_refused = false; // before_end said no: the upload was aborted

    // A command line libcurl sent (only its verb is looked at).
    void on_out(std::string_view line);
    // Bytes the server sent (CURLINFO_HEADER_IN): split into lines, each to on_line.
    void on_in(std::string_view chunk);
    void on_line(std::string_view line);
    void on_reply(Reply r);

    // Credentials are configured but the server offers no AUTH (libcurl 7.88 would then skip
    // authentication and send MAIL FROM unauthenticated): end the session before MAIL FROM.
    // The socket stays libcurl's; shutdown() only makes its next write or read fail.
    void cut();
};

} // namespace crm::smtp::detail
