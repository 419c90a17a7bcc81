#pragma once
// Bounces, delay and delivery notices, and automatic answers: what a message says about mail we
// sent, so that the ingest can mark the outbox entry it reports on, and follow-ups never count
// an out-of-office as the customer's answer. Pure: reads a ParsedMessage only.
//
// Recognised, in this order:
//  1. RFC 3464 delivery status notifications: a message/delivery-status (or RFC 6533
//     message/global-delivery-status) part in a multipart/report, or sent by a mailer daemon.
//     Each recipient block's Final-Recipient (else Original-Recipient), Action, Status and
//     Diagnostic-Code; blocks without the blank line between them are split at each recipient.
//     A read receipt (RFC 8098 multipart/report) is AutoKind::Receipt; another report type
//     (abuse reports) is nothing automatic we act on.
//  2. The common non-standard bounces, sent by a mailer daemon (MAILER-DAEMON, postmaster and
//     the like by address; "Mail Delivery Subsystem" by name only with an empty Return-Path or
//     Auto-Submitted too) or with an empty Return-Path: qmail, Exim, Sendmail,
//     Exchange/Office 365, Gmail and Postfix texts and localised phrases (German, French,
//     Spanish, Italian, Portuguese, Dutch, Polish, Romanian, Russian, Chinese, Japanese), read
//     only up to the copy of our message the notice returns; the earliest sentence decides
//     between a delay and a failure. The failed addresses are those the text names after that
//     sentence, except the bounce's own sender and recipient.
//  3. Automatic answers (RFC 3834): Auto-Submitted: auto-replied, X-Autoreply, X-Autorespond,
//     Precedence: auto_reply, or an auto-generated message whose subject opens with an
//     out-of-office prefix ("Automatic reply:", "Abwesenheitsnotiz:", "Răspuns automat:" ...).
//     From a person's address (not a daemon's) this is checked before 2: an out-of-office
//     answer with an empty Return-Path is one, whatever its text says about delays.
// The original's Message-ID comes from the returned message (message/rfc822) or its headers
// (text/rfc822-headers), else a Message-ID line quoted in the text, else the report's own
// In-Reply-To.

#include <string>
#include <vector>

#include "crm/core/message.hpp"

namespace crm::mime {

// What a report's own parts say, collected by the parser whether or not it keeps attachment
// contents (ParseLimits::keep_attachment_content).
struct ReportParts {
    std::vector<std::string> status; // message/(global-)delivery-status bodies, decoded
    // The Message-ID of each returned message (message/rfc822), "" for one without.
    std::vector<std::string> returned_ids;
    std::vector<std::string> headers; // text/rfc822-headers bodies (returned headers)
};

[[nodiscard]] AutoReport classify_report(const ParsedMessage& m, const ReportParts& parts);

} // namespace crm::mime
