// bench/peers/socketio/server.js: the Socket.IO peer of bench/compare's chat scenario, written
// for it: rooms with Socket.IO's own join and io.to(room).emit (each packet encoded once for the
// room), WebSocket transport only, no compression. Like epws it numbers each room's messages
// (seq), so epws-bench --dialect socketio checks every delivery the same way.
// Events: join(room) -> presence {type, room}; say {room, text} -> message {type, room, from,
// seq, text} to every member, the sayer included. Prints "socketio: listening on 127.0.0.1:PORT".
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 0);
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const io = new Server(server, {
  transports: ['websocket'],   // epws-bench connects with a WebSocket straight away
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 1 << 20,
  pingInterval: 25000,         // Socket.IO's default; epws-bench answers its pings
});
const seqs = new Map();        // room -> last seq

// Bounded like epws: room names and texts are strings of a sane length, else ignored.
const isName = (r) => typeof r === 'string' && r.length > 0 && r.length <= 64;

io.on('connection', (socket) => {
  socket.conn.transport.socket?._socket?.setNoDelay?.(true);
  const user = String(socket.handshake.query.username || socket.id).slice(0, 32);
  socket.on('join', (room) => {
    if (!isName(room)) return;
    socket.join(room);
    socket.emit('presence', { type: 'presence', room });
  });
  socket.on('say', (m) => {
    if (!m || !isName(m.room) || typeof m.text !== 'string' || m.text.length > 4096) return;
    if (!socket.rooms.has(m.room)) return;
    const seq = (seqs.get(m.room) || 0) + 1;
    seqs.set(m.room, seq);
    io.to(m.room).emit('message', { type: 'message', room: m.room, from: user, seq, text: m.text });
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`socketio: listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
