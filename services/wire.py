"""A small HTTP/1.1 client for the front of ``serve --workers``: keep-alive connections to one
worker's UNIX socket, request bytes written as given, answers read as they come.

The front talks only to its own workers (uvicorn), so this reads what uvicorn writes: a status
line, headers, then a body framed by ``content-length``, by chunks, or by the end of the
connection. A general client (httpx) costs several times more per request, and on a machine
with few cores that is time taken from the workers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

# A worker closes a connection idle for 75 s (--timeout-keep-alive); reuse only younger ones.
IDLE_REUSE_S = 60.0
HEAD_LIMIT = 1 << 20


class UpstreamError(Exception):
    """The worker could not be reached, or closed the connection before answering."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float

    def close(self) -> None:
        self.writer.close()


@dataclass
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    _body: AsyncIterator[bytes]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._body

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self._body])


class WorkerClient:
    """Keep-alive connections to the worker listening on ``socket_path``."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._idle: list[_Connection] = []

    async def _connection(self) -> tuple[_Connection, bool]:
        """An idle connection young enough to reuse (True), else a new one (False)."""
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.last_used < IDLE_REUSE_S and not conn.reader.at_eof():
                return conn, True
            conn.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.socket_path, limit=HEAD_LIMIT), timeout=5.0
            )
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"cannot connect ({type(exc).__name__})") from exc
        return _Connection(reader, writer, now), False

    async def request(self, head: bytes, body: bytes) -> UpstreamResponse:
        """Send ``head`` (request line and headers, without the ending blank line or a
        content-length) and ``body``; the answer's status and headers, its body to iterate.
        A reused connection the worker had already closed is retried once on a new one (the
        worker never saw the request)."""
        for _ in range(2):
            conn, reused = await self._connection()
            try:
                conn.writer.write(b"%s\r\ncontent-length: %d\r\n\r\n%s" % (head, len(body), body))
                await conn.writer.drain()
                raw_head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), self.timeout)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                conn.close()
                if reused and isinstance(exc, asyncio.IncompleteReadError) and not exc.partial:
                    continue
                raise UpstreamError(f"closed the connection ({type(exc).__name__})") from exc
            except (TimeoutError, asyncio.LimitOverrunError, OSError) as exc:
                conn.close()
                raise UpstreamError(f"did not answer ({type(exc).__name__})") from exc
            return self._response(conn, raw_head, head.startswith(b"HEAD "))
        raise UpstreamError("closed the connection twice")

    def _response(self, conn: _Connection, raw_head: bytes, head_request: bool) -> UpstreamResponse:
        lines = raw_head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
            headers.append((name, value))
        if head_request or status in (204, 304) or status < 200:  # never a body (RFC 9112 6.3)
            length, chunked = 0, False
        return UpstreamResponse(status, headers, self._body(conn, length, chunked, close))

    async def _body(self, conn: _Connection, length: int | None, chunked: bool, close: bool) -> AsyncIterator[bytes]:
        done = False
        try:
            if chunked:
                while True:
                    size_line = await conn.reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";", 1)[0], 16)
                    if size == 0:
                        await conn.reader.readuntil(b"\r\n")  # no trailers from uvicorn
                        break
                    chunk = await conn.reader.readexactly(size + 2)
                    yield chunk[:-2]
            elif length is not None:
                if length:
                    yield await conn.reader.readexactly(length)
            else:  # framed by the end of the connection
                close = True
                while chunk := await conn.reader.read(65536):
                    yield chunk
            done = True
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise UpstreamError(f"closed the connection mid-answer ({type(exc).__name__})") from exc
        finally:
            if done and not close:
                conn.last_used = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()
