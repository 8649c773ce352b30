// tests/integration/lifecycle.test.mjs: Node's ws against epws started with special flags:
// subprotocols, allowed origins, and SIGTERM with a client connected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startServer, once } from './server.mjs';

const require = createRequire(new URL('../package.json', import.meta.url));
const WebSocket = require('ws');

const T = { timeout: 20000 };

// Runs fn(server) against a server started with flags, and always stops the server.
async function withServer(flags, fn) {
  const server = await startServer(flags);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

test('the subprotocol the client offers is selected', T, () =>
  withServer(['--subprotocols', 'chat,superchat'], async (server) => {
    const ws = new WebSocket(server.url(), ['superchat']);
    await once(ws, 'open');
    assert.equal(ws.protocol, 'superchat');
    const reply = once(ws, 'message');
    ws.send('over superchat');
    assert.equal((await reply)[0].toString(), 'over superchat');
    const done = once(ws, 'close');
    ws.close(1000);
    await done;
  }));

test('with several offered, the server preference order wins', T, () =>
  withServer(['--subprotocols', 'chat,superchat'], async (server) => {
    const ws = new WebSocket(server.url(), ['superchat', 'chat']);
    await once(ws, 'open');
    assert.equal(ws.protocol, 'chat');
    ws.terminate();
  }));

test('an origin outside --allowed-origins gets 403; a listed one connects', T, () =>
  withServer(['--allowed-origins', 'http://good.example'], async (server) => {
    const evil = new WebSocket(server.url(), { origin: 'http://evil.example' });
    evil.on('error', () => {}); // terminate() below reports "closed before established"
    const [, res] = await once(evil, 'unexpected-response');
    assert.equal(res.statusCode, 403);
    res.resume();
    evil.terminate();
    const good = new WebSocket(server.url(), { origin: 'http://good.example' });
    await once(good, 'open');
    good.terminate();
  }));

test('SIGTERM closes a connected client with 1001 and exits 0', T, async () => {
  const server = await startServer(['--close-timeout', '2']);
  try {
    const ws = new WebSocket(server.url());
    await once(ws, 'open');
    const reply = once(ws, 'message');
    ws.send('before shutdown');
    await reply;
    const closed = once(ws, 'close', 5000);
    const exited = once(server.proc, 'exit', 5000);
    server.proc.kill('SIGTERM');
    const [code] = await closed;
    assert.equal(code, 1001, 'close code seen by the client');
    const [status] = await exited;
    assert.equal(status, 0, 'exit status');
  } finally {
    await server.stop();
  }
});
