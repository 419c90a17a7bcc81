#!/usr/bin/env bash
# The one command that sets up and runs the main job on a fresh Debian 12 machine: installs the
# Debian packages, builds, creates the embedded SQLite CRM database (./var/crm-mail.db, or
# $CRM_MAIL_DB), imports the bundled sample CRM records and sample mailbox, and prints the
# deals with their conversations and the unsorted queue.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
ctl=build/release/src/ctl/crm-mailctl
db=${CRM_MAIL_DB:-var/crm-mail.db}
mkdir -p "$(dirname "$db")"
export CRM_MAIL_DB=$db
"$ctl" db migrate
for kind in users companies contacts deals; do
  "$ctl" crm import "$kind" "sample/crm/$kind.csv"
done
"$ctl" import --owner 1 sample/mail/alice
echo
"$ctl" deals list
echo; echo "== Conversations (deal or unsorted reason)"
"$ctl" threads list
echo; echo "== Unsorted queue"
"$ctl" threads list --unsorted
