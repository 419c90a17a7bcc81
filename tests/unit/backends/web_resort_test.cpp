// Re-sorting after CRM changes (issue 19), on SQLite and PostgreSQL: an unsorted thread links
// when the CRM learns its sender, an automatic link the CRM no longer supports goes to the queue
// held for a person, and a person's decisions and a closed deal's mail are never touched.
#include <algorithm>

#include <gtest/gtest.h>

#include "crm/app/resort.hpp"
#include "web_env.hpp"

namespace crm::backends::test {
namespace {

template <class Kind> class Resort : public Web<Kind> {};
TYPED_TEST_SUITE(Resort, Kinds, KindNames);

// Ann (team domain example.com) and her deals:
//   t_new (unsorted, "unknown sender"): from carol@acme.example, not yet in the CRM
//   t_gone (auto-linked to d_fleet): from dave@old.example, a contact the CRM then forgets
//   t_won (auto-linked to d_won, won): from erin@old.example, no longer in the CRM either
//   t_manual (linked by hand to d_fleet): from zed@nowhere.example
//   t_held (unsorted, held): from carol@acme.example too
//   t_two (auto-linked to d_fleet): from dave@old.example with carol@acme.example on Cc
struct World {
    UserId ann = 0;
    CompanyId acme = 0;
    DealId d_fleet = 0, d_won = 0, d_other = 0;
    ThreadId t_new = 0, t_gone = 0, t_won = 0, t_manual = 0, t_held = 0, t_two = 0;
    std::int64_t dave = 0;
    WebEnv& env;

    std::int64_t contact(const std::string& name, const std::string& address,
                         std::optional<CompanyId> company) {
        const auto id = env.scalar("INSERT INTO contacts (name, company_id, created_at, "
                                   "updated_at) VALUES (" +
                                   q(name) + ", " + opt(company) + ", 1, 1) RETURNING id");
        EXPECT_TRUE(id) << name;
        env.exec("INSERT INTO contact_addresses (address, contact_id, written) VALUES (" +
                 q(address) + ", " + std::to_string(id.value_or(0)) + ", " + q(address) + ")");
        return id.value_or(0);
    }
    ThreadId thread_from(Seed& s, const std::string& subject, const std::string& from,
                         std::int64_t date) {
        auto t = s.thread(subject);
        auto m = s.message(t, subject + "@x", subject, "", from, date, date);
        s.participant(m, "from", 0, from);
        s.participant(m, "to", 0, "ann@example.com", "Ann");
        s.recount(t);
        return t;
    }

    explicit World(WebEnv& e) : env(e) {
        Seed s(env);
        ann = s.user("Ann", "ann@example.com", "salesperson");
        s.user_address(ann, "ann@example.com");
        acme = s.company("Acme");
        d_fleet = s.deal("Fleet", ann);
        d_won = s.deal("Won deal", ann);
        env.exec("UPDATE deals SET status = 'won' WHERE id = " + std::to_string(d_won));
        d_other = s.deal("Acme pilot", ann, false, acme);
        dave = contact("Dave", "dave@old.example", std::nullopt);
        env.exec("INSERT INTO deal_contacts (deal_id, contact_id) VALUES (" +
                 std::to_string(d_fleet) + ", " + std::to_string(dave) + ")");

        t_new = thread_from(s, "Hello", "carol@acme.example", 100);
        s.unsort(t_new, "unknown sender");
        t_gone = thread_from(s, "Fleet order", "dave@old.example", 200);
        s.link(t_gone, d_fleet, "single open deal");
        t_won = thread_from(s, "Thanks", "erin@old.example", 300);
        s.link(t_won, d_won, "single open deal");
        t_manual = thread_from(s, "Misc", "zed@nowhere.example", 400);
        s.link(t_manual, d_fleet, "linked by hand", true);
        t_held = thread_from(s, "Hello again", "carol@acme.example", 500);
        s.unsort(t_held, "split from thread 1 by Ann");
        env.exec("UPDATE unsorted SET held = 1 WHERE thread_id = " + std::to_string(t_held));
        t_two = thread_from(s, "Order", "dave@old.example", 50);
        env.exec("INSERT INTO participants (message_id, role, position, address, written) "
                 "SELECT id, 'cc', 0, 'carol@acme.example', 'carol@acme.example' FROM messages "
                 "WHERE thread_id = " +
                 std::to_string(t_two));
        s.link(t_two, d_fleet, "single open deal");
    }
    std::optional<std::int64_t> deal_of(ThreadId t) const {
        return env.scalar("SELECT deal_id FROM thread_deals WHERE thread_id = " +
                          std::to_string(t));
    }
    std::string queue_reason(ThreadId t) const {
        return env.text("SELECT reason FROM unsorted WHERE thread_id = " + std::to_string(t));
    }
};

app::ResortReport resort(WebEnv& env, ResortScope scope) {
    return ok(app::resort(*env.backend(), scope, 10'000));
}

TYPED_TEST(Resort, CrmChangesDecideTheSortersThreadsAgainAndNeverAPersons) {
    World w(this->env());
    auto& env = this->env();
    ASSERT_NE(env.backend(), nullptr);
    const std::string before = ok(env.backend()->resort().crm_fingerprint());
    EXPECT_EQ(ok(env.backend()->resort().crm_fingerprint()), before) << "stable while unchanged";

    // Nothing changed in the CRM: the queue stays as it is.
    auto r = resort(env, ResortScope{});
    EXPECT_EQ(r.examined, 1U) << "the queue's one thread not held";
    EXPECT_TRUE(r.changes.empty());
    EXPECT_FALSE(w.deal_of(w.t_new));

    // The CRM learns Carol, a contact of Acme: her thread goes to Acme's one open deal.
    const auto carol = w.contact("Carol", "carol@acme.example", w.acme);
    EXPECT_NE(ok(env.backend()->resort().crm_fingerprint()), before);
    r = resort(env, ResortScope{});
    ASSERT_EQ(r.changes.size(), 1U);
    EXPECT_EQ(r.changes[0].thread, w.t_new);
    EXPECT_FALSE(r.changes[0].from);
    EXPECT_EQ(r.changes[0].to, w.d_other);
    EXPECT_EQ(r.changes[0].reason, "re-sorted: single open deal");
    EXPECT_EQ(w.deal_of(w.t_new), w.d_other);
    EXPECT_TRUE(w.queue_reason(w.t_new).empty()) << "left the queue";
    EXPECT_FALSE(w.deal_of(w.t_held)) << "a thread held for a person stays held";
    EXPECT_EQ(w.queue_reason(w.t_held), "split from thread 1 by Ann");
    EXPECT_EQ(
        env.text("SELECT sort_reason FROM messages WHERE thread_id = " + std::to_string(w.t_new)),
        "re-sorted: single open deal");

    // The automatic links: t_new (now automatic), t_gone and t_won are still supported; in t_two
    // the CRM now ties Carol, unknown when her mail was stored, to another customer's deal: it
    // waits for a person.
    r = resort(env, ResortScope{false, true, std::nullopt});
    EXPECT_EQ(r.examined, 4U);
    ASSERT_EQ(r.changes.size(), 1U);
    EXPECT_EQ(r.changes[0].thread, w.t_two);
    EXPECT_EQ(r.changes[0].from, w.d_fleet);
    EXPECT_TRUE(r.changes[0].held);
    EXPECT_FALSE(w.deal_of(w.t_two));
    EXPECT_EQ(w.queue_reason(w.t_two), "re-sorted: the CRM now ties carol@acme.example to deal " +
                                           std::to_string(w.d_other) + " as well as to deal " +
                                           std::to_string(w.d_fleet) + " (ambiguous: deals " +
                                           std::to_string(std::min(w.d_fleet, w.d_other)) + ", " +
                                           std::to_string(std::max(w.d_fleet, w.d_other)) + ")");

    // The CRM forgets Dave: the open deal's thread goes to the queue, held; the won deal keeps
    // its mail; the manual link stays.
    env.exec("DELETE FROM contacts WHERE id = " + std::to_string(w.dave));
    r = resort(env, ResortScope{false, true, w.d_fleet});
    EXPECT_EQ(r.examined, 1U) << "--deal: only that deal's automatic links";
    ASSERT_EQ(r.changes.size(), 1U);
    EXPECT_EQ(r.changes[0].thread, w.t_gone);
    EXPECT_EQ(r.changes[0].from, w.d_fleet);
    EXPECT_FALSE(r.changes[0].to);
    EXPECT_TRUE(r.changes[0].held);
    EXPECT_FALSE(w.deal_of(w.t_gone));
    EXPECT_EQ(w.queue_reason(w.t_gone), "re-sorted: the CRM no longer ties it to deal " +
                                            std::to_string(w.d_fleet) + " (unknown sender)");
    EXPECT_EQ(env.scalar("SELECT held FROM unsorted WHERE thread_id = " + std::to_string(w.t_gone)),
              1);
    EXPECT_EQ(
        env.text("SELECT suggestions FROM unsorted WHERE thread_id = " + std::to_string(w.t_gone)),
        std::to_string(w.d_fleet));
    EXPECT_EQ(w.deal_of(w.t_manual), w.d_fleet);

    r = resort(env, ResortScope{true, true, std::nullopt});
    EXPECT_TRUE(r.changes.empty()) << "the second pass changes nothing";
    EXPECT_EQ(w.deal_of(w.t_won), w.d_won) << "a won deal keeps its mail";
    EXPECT_FALSE(w.deal_of(w.t_gone)) << "held: not linked again by the sorter";

    // A changed fingerprint for each kind of record the sorter reads.
    std::string last = ok(env.backend()->resort().crm_fingerprint());
    for (const std::string& sql :
         {"UPDATE deals SET status = 'lost' WHERE id = " + std::to_string(w.d_other),
          "INSERT INTO company_domains (domain, company_id) VALUES ('acme.example', " +
              std::to_string(w.acme) + ")",
          "INSERT INTO user_addresses (address, user_id) VALUES ('sales@example.com', " +
              std::to_string(w.ann) + ")",
          "INSERT INTO deal_contacts (deal_id, contact_id) VALUES (" + std::to_string(w.d_other) +
              ", " + std::to_string(carol) + ")"}) {
        env.exec(sql);
        const auto now = ok(env.backend()->resort().crm_fingerprint());
        EXPECT_NE(now, last) << sql;
        last = now;
    }
}

} // namespace
} // namespace crm::backends::test
