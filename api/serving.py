"""uvicorn as `bwk serve` runs it."""

from __future__ import annotations

import contextlib
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class TCPConfig(uvicorn.Config):
    """uvicorn's settings, with the socket that several workers share made for TCP.

    uvicorn makes that socket as `socket.socket(family=...)`, protocol 0; the connections
    asyncio accepts from it inherit the 0, and asyncio sets TCP_NODELAY only on sockets that
    say IPPROTO_TCP: without it, every answer of a worker on asyncio's loop waited 40 ms for
    the client's delayed ACK (664 instead of 2,419 GET /me a second). uvloop sets it itself.
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, sock.detach())
        return sock


def run(config: uvicorn.Config) -> bool:
    """What `uvicorn.run` does with an import string, for a Config of ours: one worker
    serves in this process; several share the socket bound here, under uvicorn's supervisor.
    Whether a lone worker started (uvicorn exits with 3 when it did not)."""
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    return config.workers > 1 or server.started
