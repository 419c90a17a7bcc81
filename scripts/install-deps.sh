#!/usr/bin/env bash
# Installs every Debian 12 package crm-mail needs to build, run and test.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkgconf git
  libgmime-3.0-dev libglib2.0-dev       # MIME parsing and composing
  libsqlitecpp-dev libsqlite3-dev sqlite3 # embedded database
  libfmt-dev                            # formatting
  libboost1.81-dev libboost-json1.81-dev # Asio, Beast, JSON
  libcurl4-openssl-dev                  # TLS/SASL transport, SMTP
  libidn2-dev                           # IDNA for address canonicalisation
  libtomlplusplus-dev                   # config files
  libsystemd-dev                        # sd_notify (crm-maild only)
  zlib1g-dev                            # .mbox.gz import
  libgtest-dev libgmock-dev libbenchmark-dev # tests and benchmarks
  clang libclang-rt-14-dev              # libFuzzer targets
)
test_pkgs=(
  notmuch                               # reference threader for corpus comparison and benchmark
  isync                                 # mbsync, the reference of the sync benchmark
  dovecot-imapd dovecot-lmtpd           # real IMAP server for integration tests
  openssl                               # throwaway test CA
  python3                               # corpus comparison and benchmark scripts
  time                                  # peak RSS in the benchmark scripts
  systemd                               # systemd-analyze verify/security on the unit
  dpkg-dev file                         # cpack's .deb: dpkg-shlibdeps finds the Depends
)

need=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
