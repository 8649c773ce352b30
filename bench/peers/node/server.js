// bench/peers/node/server.js: the Node ws peer for bench/compare: /echo and /broadcast on one port,
// configured like epws (no compression, text stays text). Prints "... listening on 127.0.0.1:PORT".
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
// perMessageDeflate off: the comparison runs without compression, as epws does today.
// clientTracking off: the broadcast set below is the only registry, as in the other peers.
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false,
                                  maxPayload: 16 * 1024 * 1024 });
const subscribers = new Set();

server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/echo' && req.url !== '/broadcast') { socket.destroy(); return; }
  wss.handleUpgrade(req, socket, head, (ws) => {
    socket.setNoDelay(true);
    if (req.url === '/echo') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      return;
    }
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
    ws.on('message', (data, isBinary) => {
      for (const s of subscribers) s.send(data, { binary: isBinary });
    });
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`node-ws: listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
