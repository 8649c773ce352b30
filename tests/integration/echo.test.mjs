// tests/integration/echo.test.mjs: a conforming client (Node's ws) against epws /echo, and plain
// HTTP with Node's fetch. Run: node --test tests/integration/ (EPWS_BIN=build/release/epws).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { startServer, once } from './server.mjs';

// ws lives in tests/node_modules (npm ci --prefix tests).
const require = createRequire(new URL('../package.json', import.meta.url));
const WebSocket = require('ws');

const T = { timeout: 20000 };
let server;

before(async () => { server = await startServer(); });
after(async () => {
  if (!server) return;
  const alive = server.proc.exitCode === null && server.proc.signalCode === null;
  const code = await server.stop();
  assert.ok(alive, `epws died during the suite; stderr ${server.stderr().slice(-2000)}`);
  assert.equal(code, 0, 'exit status after SIGTERM');
});

async function open(options = {}) {
  const ws = new WebSocket(server.url(), { maxPayload: 0, ...options });
  await once(ws, 'open');
  return ws;
}

// Sends data, resolves with [data, isBinary] of the next message.
async function echo(ws, data, options) {
  const reply = once(ws, 'message', 10000);
  ws.send(data, options);
  return reply;
}

async function closed(ws) {
  if (ws.readyState === WebSocket.CLOSED) return;
  const done = once(ws, 'close', 5000);
  ws.close();
  await done;
}

test('text round trips as text', T, async () => {
  const ws = await open();
  const [data, isBinary] = await echo(ws, 'hello, epws');
  assert.equal(isBinary, false);
  assert.equal(data.toString(), 'hello, epws');
  await closed(ws);
});

test('binary round trips as binary', T, async () => {
  const ws = await open();
  const payload = Buffer.from([0, 1, 2, 0xfe, 0xff]);
  const [data, isBinary] = await echo(ws, payload);
  assert.equal(isBinary, true);
  assert.deepEqual(data, payload);
  await closed(ws);
});

test('empty text and empty binary messages', T, async () => {
  const ws = await open();
  let [data, isBinary] = await echo(ws, '');
  assert.equal(isBinary, false);
  assert.equal(data.length, 0);
  [data, isBinary] = await echo(ws, Buffer.alloc(0));
  assert.equal(isBinary, true);
  assert.equal(data.length, 0);
  await closed(ws);
});

for (const n of [125, 126, 65535, 65536]) {
  test(`${n}-byte text and binary messages`, T, async () => {
    const ws = await open();
    const text = 'x'.repeat(n);
    let [data, isBinary] = await echo(ws, text);
    assert.equal(isBinary, false);
    assert.equal(data.toString(), text);
    const bin = randomBytes(n);
    [data, isBinary] = await echo(ws, bin);
    assert.equal(isBinary, true);
    assert.ok(bin.equals(data), `${n}-byte binary differs`);
    await closed(ws);
  });
}

test('1 MiB text and binary messages', T, async () => {
  const ws = await open();
  const text = 'm'.repeat(1 << 20);
  let [data, isBinary] = await echo(ws, text);
  assert.equal(isBinary, false);
  assert.equal(data.length, 1 << 20);
  assert.equal(data.toString(), text);
  const bin = randomBytes(1 << 20);
  [data, isBinary] = await echo(ws, bin);
  assert.equal(isBinary, true);
  assert.ok(bin.equals(data), '1 MiB binary differs');
  await closed(ws);
});

test('fragmented message is echoed as one message', T, async () => {
  const ws = await open();
  const reply = once(ws, 'message', 10000);
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted', { fin: true });
  const [data, isBinary] = await reply;
  assert.equal(isBinary, false);
  assert.equal(data.toString(), 'fragmented');
  await closed(ws);
});

test('fragmented binary message is echoed as one message', T, async () => {
  const ws = await open();
  const parts = [randomBytes(10), randomBytes(70000), randomBytes(1)];
  const reply = once(ws, 'message', 10000);
  ws.send(parts[0], { binary: true, fin: false });
  ws.send(parts[1], { binary: true, fin: false });
  ws.send(parts[2], { binary: true, fin: true });
  const [data, isBinary] = await reply;
  assert.equal(isBinary, true);
  assert.ok(Buffer.concat(parts).equals(data));
  await closed(ws);
});

test('ping gets a pong with the same payload', T, async () => {
  const ws = await open();
  let pong = once(ws, 'pong');
  ws.ping('x');
  assert.equal((await pong)[0].toString(), 'x');
  pong = once(ws, 'pong');
  const payload = randomBytes(125);
  ws.ping(payload);
  assert.ok(payload.equals((await pong)[0]));
  pong = once(ws, 'pong');
  ws.ping();
  assert.equal((await pong)[0].length, 0);
  await closed(ws);
});

test('client close with a code and reason gets the same code back', T, async () => {
  const ws = await open();
  const done = once(ws, 'close');
  ws.close(4001, 'bye now');
  const [code] = await done;
  assert.equal(code, 4001);
});

test('client close with 1000', T, async () => {
  const ws = await open();
  const done = once(ws, 'close');
  ws.close(1000);
  const [code] = await done;
  assert.equal(code, 1000);
});

test('Chinese and emoji text round trips', T, async () => {
  const ws = await open();
  for (const text of ['你好，世界', 'emoji 😀🎉👍🏽', 'mixed: café, Ω, 𝄞, 日本語']) {
    const [data, isBinary] = await echo(ws, text);
    assert.equal(isBinary, false);
    assert.equal(data.toString('utf8'), text);
  }
  await closed(ws);
});

test('1000 pipelined messages come back in order', T, async () => {
  const ws = await open();
  const got = [];
  const all = new Promise((resolve) => {
    ws.on('message', (d) => { got.push(d.toString()); if (got.length === 1000) resolve(); });
  });
  for (let i = 0; i < 1000; i++) ws.send(`message ${i}`);
  let timer;
  await Promise.race([all, new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`only ${got.length} of 1000 echoes within 10 s`)), 10000);
  })]).finally(() => clearTimeout(timer));
  for (let i = 0; i < 1000; i++) assert.equal(got[i], `message ${i}`);
  await closed(ws);
});

test('permessage-deflate offered by the client still echoes correctly', T, async () => {
  const ws = await open({ perMessageDeflate: true });
  const text = 'compressible '.repeat(5000);
  const [data, isBinary] = await echo(ws, text);
  assert.equal(isBinary, false);
  assert.equal(data.toString(), text);
  const bin = randomBytes(3000);
  const [data2, isBinary2] = await echo(ws, bin);
  assert.equal(isBinary2, true);
  assert.ok(bin.equals(data2));
  await closed(ws);
});

test('twenty clients at once each get their own echoes', T, async () => {
  await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const ws = await open();
    for (let j = 0; j < 10; j++) {
      const [data] = await echo(ws, `${i}:${j}`);
      assert.equal(data.toString(), `${i}:${j}`);
    }
    await closed(ws);
  }));
});

test('HTTP GET /echo?message= answers the decoded message', T, async () => {
  let r = await fetch(server.http('/echo?message=hello'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'hello');
  r = await fetch(server.http('/echo?message=hi%20there'));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'hi there');
});

test('HTTP /healthz is 200, unknown path is 404, /stats is JSON', T, async () => {
  assert.equal((await fetch(server.http('/healthz'))).status, 200);
  const missing = await fetch(server.http('/definitely-not-here'));
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
  const stats = await fetch(server.http('/stats'));
  assert.equal(stats.status, 200);
  assert.match(stats.headers.get('content-type') ?? '', /^application\/json/);
  const body = await stats.json();
  for (const k of ['connections', 'closed_output_overflow', 'rejected_handshakes']) {
    assert.equal(typeof body[k], 'number', `stats.${k}`);
  }
});

test('upgrade on an unknown path is refused with 404', T, async () => {
  const ws = new WebSocket(server.url('/nowhere'));
  ws.on('error', () => {}); // terminate() below reports "closed before established"
  const [, res] = await once(ws, 'unexpected-response');
  assert.equal(res.statusCode, 404);
  res.resume();
  ws.terminate();
});
