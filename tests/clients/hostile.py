"""A hostile HTTP server (a webhook receiver, or a sandbox): every request gets the same misbehaviour, chosen with --mode.

hang      reads the request, never answers
trickle   answers 200 and then sends its body one byte a second, forever
huge      answers 200 with a 20 MB body
endless   answers 200 with a chunked body that never ends, as fast as it is read
redirect  answers 307 to --location (another host); a client that follows would post there
reset     reads the request, then resets the connection (RST)
markup    answers 400 with markup and terminal escapes in its body and headers
gzipbomb  answers 200 with `Content-Encoding: gzip, gzip`: a few KB that decode to 3 GiB of zeros
accept    answers 200 to anything (an impostor that "verifies" every signature)
once      answers 200 to the first request, then exits 3 (a receiver that dies during the check)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import struct
import zlib

MARKUP = b"<script>document.title='pwned'</script><img src=x onerror=alert(1)>\x1b[2J\x1b[31mred\x1b[0m\xe2\x80\xae"


async def read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)


def gzip_bomb(size: int = 3 << 30) -> bytes:
    """`size` zeros, gzipped twice: about 7 KB on the wire. The inner gzip repeats one byte-aligned deflate
    block of a MB of zeros (compressed once), so making it costs a checksum, not a compression of `size`."""
    chunk = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    once = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + block * (size >> 20) + end + struct.pack("<II", crc, size & 0xFFFFFFFF)
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return outer.compress(once) + outer.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--mode", required=True, choices=["hang", "trickle", "huge", "endless", "redirect", "reset", "markup", "gzipbomb", "accept", "once"]
    )
    parser.add_argument("--location", default="http://192.0.2.1/steal")
    args = parser.parse_args()
    bomb = gzip_bomb() if args.mode == "gzipbomb" else b""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
            if args.mode == "hang":
                await asyncio.sleep(3600)
            elif args.mode == "trickle":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                while True:
                    writer.write(b"x")
                    await writer.drain()
                    await asyncio.sleep(1)
            elif args.mode == "huge":
                size = 20 * 1024 * 1024
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                chunk = b"A" * 65536
                for _ in range(size // len(chunk)):
                    writer.write(chunk)
                    await writer.drain()
            elif args.mode == "endless":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"10000\r\n" + b"[" * 65536 + b"\r\n"
                while True:
                    writer.write(chunk)
                    await writer.drain()
            elif args.mode == "redirect":
                writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % args.location.encode())
            elif args.mode == "gzipbomb":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip, gzip\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(bomb), bomb)
                )
            elif args.mode in ("accept", "once"):
                writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"received":1}\n')
                if args.mode == "once":
                    await writer.drain()
                    writer.close()
                    os._exit(3)
            elif args.mode == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            else:
                writer.write(
                    b"HTTP/1.1 400 Bad Request\r\nX-Evil: <b onmouseover=alert(1)>\x1b]0;title\x07\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(MARKUP), MARKUP)
                )
            await writer.drain()
            writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=128)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
