# bench/peers/python_server.py: the python websockets peer for bench/compare (Debian's
# python3-websockets, plain asyncio): /echo and /broadcast, no compression, no keepalive pings.
import asyncio
import signal
import sys

import websockets

subscribers = set()


async def handler(ws, path=None):
    # websockets 10 has ws.path; 13+ has ws.request.path.
    if path is None:
        path = ws.path if hasattr(ws, "path") else ws.request.path
    if path == "/echo":
        async for message in ws:
            await ws.send(message)
        return
    if path != "/broadcast":
        return
    subscribers.add(ws)
    try:
        async for message in ws:
            # websockets.broadcast writes to every peer without waiting on any of them.
            websockets.broadcast(subscribers, message)
    finally:
        subscribers.discard(ws)


async def main(port):
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    # compression=None: epws has no permessage-deflate yet; ping_interval=None: no pings mid-run.
    async with websockets.serve(handler, "127.0.0.1", port, compression=None,
                                ping_interval=None, max_size=16 * 1024 * 1024,
                                max_queue=None) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"python-websockets: listening on 127.0.0.1:{bound}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
