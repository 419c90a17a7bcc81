// Secret files next to the config: names that can never collide.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "crm/runtime/config_files.hpp"
#include "crm/settings/config.hpp"

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(Secrets, AnAccountNamedLikeAnotherOnesSmtpSecretCannotOverwriteIt) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("crm_secrets_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string config = (dir / "crm-mail.toml").string();
    // Account "x" with IMAP and SMTP passwords, then an account literally named "x.smtp" and
    // one named like the SMTP secret file.
    ASSERT_TRUE(crm::runtime::store_secret(config, "x", "imap-of-x"));
    ASSERT_TRUE(
        crm::runtime::store_secret(config, crm::runtime::smtp_secret_name("x"), "smtp-of-x"));
    ASSERT_TRUE(crm::runtime::store_secret(config, "x.smtp", "imap-of-x.smtp"));
    EXPECT_EQ(slurp(crm::runtime::secret_path(config, "x")), "imap-of-x\n");
    EXPECT_EQ(slurp(crm::runtime::secret_path(config, crm::runtime::smtp_secret_name("x"))),
              "smtp-of-x\n");
    EXPECT_EQ(slurp(crm::runtime::secret_path(config, "x.smtp")), "imap-of-x.smtp\n");
    // The SMTP secret's name is one no account can take.
    EXPECT_FALSE(crm::settings::valid_account_name(crm::runtime::smtp_secret_name("x")));
    EXPECT_TRUE(crm::settings::valid_account_name("x.smtp"));
    EXPECT_EQ(std::filesystem::status(crm::runtime::secret_path(config, "x")).permissions() &
                  std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::filesystem::remove_all(dir);
}

} // namespace
