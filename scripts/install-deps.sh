#!/usr/bin/env bash
# Installs every Debian 12 package crm-mail needs to build, run and test.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkgconf git
  libgmime-3.0-dev libglib2.0-dev       # MIME parsing and composing
  libgumbo-dev                          # HTML5 parse tree for the HTML sanitiser
  libsqlitecpp-dev libsqlite3-dev sqlite3 # embedded database
  libfmt-dev                            # formatting
  libboost1.81-dev libboost-json1.81-dev # Asio, Beast, JSON
  libcurl4-openssl-dev                  # TLS/SASL transport, SMTP
  libssl-dev                            # SHA-256 (libcrypto)
  libidn2-dev                           # IDNA for address canonicalisation
  libtomlplusplus-dev                   # config files
  libsystemd-dev                        # sd_notify (crm-maild only)
  libsodium-dev                         # Argon2id password hashes, random tokens (HTTP API)
  libopendkim-dev libopendmarc-dev publicsuffix # our own DKIM/DMARC verification (src/auth)
  zlib1g-dev                            # .mbox.gz import
  libzstd-dev                           # raw messages kept compressed in the database
  libpq-dev                             # PostgreSQL client (libpq 15: pipeline mode, COPY; src/pg)
  libgtest-dev libgmock-dev libbenchmark-dev # tests and benchmarks
  clang-16 libclang-rt-16-dev           # libFuzzer targets (cmake --preset fuzz)
  clang-format                          # clang-format 14: scripts/check-format.sh (the gate)
)
test_pkgs=(
  notmuch                               # reference threader for corpus comparison and benchmark
  isync                                 # mbsync, the reference of the sync benchmark
  dovecot-imapd dovecot-lmtpd           # real IMAP server for integration tests
  postfix                               # real SMTP submission server (tests/integration/postfix)
  postgresql-15                         # throwaway PostgreSQL for the pg tests and benchmark (tests/integration/postgres/pg.sh)
  openssl                               # throwaway test CA
  curl                                  # HTTP from the test scripts (API, metrics, OAuth consent)
  python3                               # corpus comparison and benchmark scripts
  python3-yaml                          # parse check of docs/openapi.yaml
  chromium                              # headless browser for the web page (web/) checks
  time                                  # peak RSS in the benchmark scripts
  systemd                               # systemd-analyze verify/security on the unit
  dpkg-dev file                         # cpack's .deb: dpkg-shlibdeps finds the Depends
  # Cyrus IMAP for the conformance suite (tests/integration/conformance): cyrus-imapd conflicts
  # with dovecot-imapd, so tests/integration/cyrus/unpack.sh runs it from its unpacked package;
  # these are the shared libraries its master, imapd and ctl_cyrusdb load, and sasldb's tool.
  libical3 libicu72 libjansson4 libkrb5-3 libldap-2.5-0 libpcre3 libpq5 libsasl2-2
  libsasl2-modules libsasl2-modules-db libsqlite3-0 libwrap0 libxapian30 libxml2 libuuid1 libnsl2
  sasl2-bin
  # Courier-IMAP for the conformance suite: courier-imap conflicts with dovecot-imapd, so
  # tests/integration/courier/unpack.sh unpacks it (and courier-base, -authlib, -authdaemon,
  # -authlib-userdb); these are the libraries its imapd, imaplogin, couriertcpd, couriertls and
  # authdaemond load beyond the above, and gamin for IDLE (IMAP_ENHANCEDIDLE).
  libcourier-unicode4 libidn12 libltdl7 libgamin0 gamin
)

# Node.js and npm run the browser tests (playwright-core from the npm registry). A machine that
# already has them (e.g. from NodeSource) keeps its own; otherwise Debian's packages.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  test_pkgs+=(nodejs npm)
fi

need=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # postfix: no system mail server. "No configuration" leaves /etc/postfix/main.cf absent; the
  # tests run their own instances (tests/integration/postfix/start.sh with postfix -c DIR/etc).
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  # Keep maintainer scripts from starting system daemons (postfix would grab port 25, dovecot
  # 143/993). Containers usually already have a policy-rc.d that denies everything; elsewhere
  # (CI VMs) one is installed just for this apt-get run. invoke-rc.d and deb-systemd-invoke obey it.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 0755 "$policy"
    own_policy=1
    trap '[ "$own_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  if [ "$own_policy" = 1 ]; then $SUDO rm -f "$policy"; own_policy=0; fi
fi
# Never leave a system postfix enabled or running (it would listen on port 25, and on reboot
# too). Harmless when postfix was never started; the test instances are not affected.
if dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now postfix.service >/dev/null 2>&1 || true
  else
    command -v update-rc.d >/dev/null && $SUDO update-rc.d postfix disable >/dev/null 2>&1 || true
    # A system instance (default config_directory /etc/postfix) that is running anyway.
    [ -f /etc/postfix/main.cf ] && $SUDO postfix status >/dev/null 2>&1 && $SUDO postfix stop || true
  fi
fi
# Cyrus IMAP and Courier-IMAP for the conformance suite: downloaded and unpacked once (never
# installed, see tests/integration/{cyrus,courier}/unpack.sh).
if [ "$(id -u)" -eq 0 ]; then
  for server in cyrus courier; do
    "$(dirname "$0")/../tests/integration/$server/unpack.sh" >/dev/null ||
      echo "install-deps: warning: $server could not be unpacked; the conformance suite will fail or skip it" >&2
  done
fi
