#!/usr/bin/env python3
"""TCP forwarder between two network namespaces: the test cluster's node (a private
namespace) and the host's loopback. Each rule LISTEN=CONNECT is
`host|node:ADDR:PORT=host|node:ADDR:PORT`; the listening socket is made in its namespace
and every outgoing connection in the other's (setns applies to the calling thread, and
this is one thread). Usage: forward.py NODE_PID RULE...
"""
import asyncio
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
NS = {"host": os.open("/proc/self/ns/net", os.O_RDONLY), "node": os.open(f"/proc/{sys.argv[1]}/ns/net", os.O_RDONLY)}


def enter(ns):
    if libc.setns(NS[ns], CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), f"setns {ns}")


def parse(side):
    ns, addr, port = side.rsplit(":", 2)
    return ns, addr, int(port)


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def handler(target):
    ns, addr, port = target

    async def handle(reader, writer):
        enter(ns)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        enter("host")
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (addr, port))
            up_reader, up_writer = await asyncio.open_connection(sock=sock)
        except OSError:
            sock.close()
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return handle


async def main():
    servers = []
    for rule in sys.argv[2:]:
        listen, target = rule.split("=")
        ns, addr, port = parse(listen)
        enter(ns)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        enter("host")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((addr, port))
        servers.append(await asyncio.start_server(handler(parse(target)), sock=sock))
    print("forwarding", " ".join(sys.argv[2:]), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
