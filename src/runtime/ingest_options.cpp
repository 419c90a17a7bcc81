#include "crm/runtime/ingest_options.hpp"

namespace crm::runtime {

app::IngestOptions ingest_options(const settings::MatchingConfig& m) {
    app::IngestOptions opts;
    opts.addresses.strip_plus_tags = m.strip_plus_tags;
    opts.addresses.plus_separator = m.plus_separator;
    opts.addresses.gmail_dot_folding = m.gmail_dot_folding;
    opts.addresses.extra_free_mail_domains = m.extra_free_mail_domains;
    opts.trusted_authserv_ids = m.trusted_authserv_ids;
    return opts;
}

} // namespace crm::runtime
