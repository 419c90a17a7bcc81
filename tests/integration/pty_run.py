#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, types ANSWER once PROMPT appears, and prints everything
the terminal showed (so a test can check that the answer was not echoed). Exits with the
command's exit code (124 when it did not finish within 10 s).

Usage: pty_run.py PROMPT ANSWER COMMAND [ARGS...]
"""
import os
import pty
import select
import signal
import sys
import time

prompt, answer, argv = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
sent = False
deadline = time.time() + 10
while time.time() < deadline:
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    try:
        chunk = os.read(fd, 1024)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    out += chunk
    if not sent and prompt in out:
        os.write(fd, answer + b"\n")
        sent = True
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(124)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
