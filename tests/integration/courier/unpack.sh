#!/usr/bin/env bash
# Unpacks Debian's Courier-IMAP (courier-imap, courier-base, courier-authlib, courier-authdaemon,
# courier-authlib-userdb; never installed: courier-imap conflicts with dovecot-imapd, and their
# paths are fixed: courier/start.sh overlays them in a private mount namespace) into
# /var/cache/crm-mail-test/courier-VERSION once, and prints that directory.
exec "$(dirname "${BASH_SOURCE[0]}")/../unpack-debs.sh" courier usr/bin/imapd courier-imap courier-base \
  courier-authlib courier-authdaemon courier-authlib-userdb
