#!/usr/bin/env python3
"""Stands in for systemd's notification socket: binds an AF_UNIX datagram socket at SOCKET_PATH
and appends every sd_notify(3) datagram to LOG_FILE, one assignment per line. Runs until killed.

Usage: notify_listener.py SOCKET_PATH LOG_FILE
"""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", encoding="utf-8") as out:
    out.write("LISTENING\n")
    out.flush()
    while True:
        data = s.recv(65536)
        for line in data.decode("utf-8", "replace").splitlines():
            out.write(line + "\n")
        out.flush()
