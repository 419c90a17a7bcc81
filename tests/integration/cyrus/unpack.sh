#!/usr/bin/env bash
# Unpacks Debian's cyrus-imapd and cyrus-common (never installed: they conflict with
# dovecot-imapd) into /var/cache/crm-mail-test/cyrus-VERSION once, and prints that directory.
exec "$(dirname "${BASH_SOURCE[0]}")/../unpack-debs.sh" cyrus usr/lib/cyrus/bin/imapd cyrus-imapd cyrus-common
