"""benchmarks/reconnect.py's own parts that need no browser: what it writes for a websocket message, and its proxy,
which must relay and then cut every open connection when told."""

from __future__ import annotations

import asyncio

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks.reconnect import Proxy, back_summary, forward_summary


def test_a_delta_is_written_with_its_path_its_element_and_its_fragment():
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = [0, 24, 1]
    msg.delta.fragment_id = "8d326e046210"
    msg.delta.new_element.markdown.body = "x"
    assert forward_summary(msg.SerializeToString()).endswith("path=[0, 24, 1] new_element:markdown frag=8d326e")
    rerun = BackMsg(rerun_script=ClientState(fragment_id="a9bbccfa1c4c", is_auto_rerun=True))
    assert back_summary(rerun.SerializeToString()) == "rerun frag=a9bbcc auto=True widgets=0"


def test_the_proxy_relays_and_cuts_what_is_open():
    async def scenario() -> tuple[bytes, int, bytes]:
        async def echo(reader, writer):
            while data := await reader.read(100):
                writer.write(data)
                await writer.drain()
            writer.close()

        upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
        proxy = Proxy(upstream.sockets[0].getsockname()[1])
        port = await proxy.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"xin chao")
        await writer.drain()
        relayed = await asyncio.wait_for(reader.read(100), 5)
        cut = proxy.drop()
        after = await asyncio.wait_for(reader.read(100), 5)  # the end of the stream: the connection is gone
        upstream.close()
        proxy.server.close()
        return relayed, cut, after

    relayed, cut, after = asyncio.run(scenario())
    assert relayed == b"xin chao" and cut == 2 and after == b""
