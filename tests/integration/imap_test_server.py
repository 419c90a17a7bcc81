"""Pieces shared by the scripted IMAP servers of the integration tests (fake_imap.py,
scripted_imap.py): reading commands, IDLE, LOGOUT and the loopback listener that writes its port to a file."""
import asyncio


def in_set(uid, spec, top):
    """Whether `uid` is in the IMAP sequence set `spec` ("1:3,7,9:*"), `top` standing for *."""
    for part in spec.split(","):
        lo, _, hi = part.partition(":")
        lo = top if lo == "*" else int(lo)
        hi = lo if not hi else (top if hi == "*" else int(hi))
        if min(lo, hi) <= uid <= max(lo, hi):
            return True
    return False


async def read_command(reader):
    """The next command line as (tag, upper-case command, rest), or None at end of stream."""
    line = await reader.readline()
    if not line:
        return None
    parts = line.rstrip(b"\r\n").split(b" ", 2)
    return (parts[0], parts[1].upper() if len(parts) > 1 else b"",
            parts[2] if len(parts) > 2 else b"")


async def idle(reader, writer, tag, idlers=None):
    """RFC 2177: "+ idling", then waits for DONE. `idlers` (a list) holds the writer meanwhile,
    so that the server can send news to clients in IDLE."""
    writer.write(b"+ idling\r\n")
    await writer.drain()
    if idlers is not None:
        idlers.append(writer)
    try:
        await reader.readline()
    finally:
        if idlers is not None:
            idlers.remove(writer)
    writer.write(tag + b" OK idle done\r\n")


async def logout(writer, tag):
    writer.write(b"* BYE bye\r\n" + tag + b" OK done\r\n")
    await writer.drain()
    writer.close()


async def serve(handle, port_file, ssl=None, on_start=None):
    """Listens on 127.0.0.1 (a free port, written to `port_file`) until killed."""
    if on_start:
        on_start()
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl)
    with open(port_file, "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()
