#pragma once
// The ingest's options from the configuration: crm-maild and crm-mailctl import build them here,
// so that both sort mail the same way.

#include "crm/app/ingest.hpp"
#include "crm/settings/config.hpp"

namespace crm::runtime {

// [matching]: address rules (plus tags, Gmail dots, extra free-mail domains) and the
// authserv-ids whose Authentication-Results are believed.
[[nodiscard]] app::IngestOptions ingest_options(const settings::MatchingConfig& m);

} // namespace crm::runtime
