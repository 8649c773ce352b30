// tests/integration/tls.test.mjs: Node's ws over wss:// and Node's https against epws, with a test
// CA and certificate this suite makes with the openssl command (never committed keys).
// Run: node --test tests/integration/tls.test.mjs (EPWS_BIN=build/release/epws).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { binaryPath, once, stopProcess } from './server.mjs';

const require = createRequire(new URL('../package.json', import.meta.url));
const WebSocket = require('ws');

const T = { timeout: 30000 };
let dir;
let ca;
let server;

function openssl(...args) {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function makeCerts() {
  dir = mkdtempSync(path.join(os.tmpdir(), 'epws-node-tls-'));
  const p = (f) => path.join(dir, f);
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '1', '-subj', '/CN=epws node test CA',
          '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=localhost');
  writeFileSync(p('srv.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', p('srv.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
          '-CAcreateserial', '-days', '1', '-extfile', p('srv.ext'), '-out', p('srv.pem'));
  ca = readFileSync(p('ca.pem'));
  return [p('srv.pem'), p('srv.key')];
}

// Starts epws with ws:// off and wss:// on an ephemeral port; resolves once it says where.
function startTls(cert, key, deadlineMs = 10000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binaryPath(), ['--port', 'off', '--tls-port', '0', '--tls-cert', cert,
                                      '--tls-key', key, '--threads', '2'],
                       { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no listening line within ${deadlineMs} ms; stderr ${err}`));
    }, deadlineMs);
    proc.stderr.on('data', (d) => { err = (err + d).slice(-8000); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`epws exited ${code}: ${err}`)); });
    proc.stdout.on('data', function onData(d) {
      out += d;
      const m = /^epws: listening with TLS on (\S+):(\d+)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.stdout.resume();
      resolve({ proc, port: Number(m[2]), stderr: () => err });
    });
  });
}

before(async () => {
  const [cert, key] = makeCerts();
  server = await startTls(cert, key);
});

after(async () => {
  if (server) {
    const alive = server.proc.exitCode === null && server.proc.signalCode === null;
    const code = await stopProcess(server.proc, 8000);
    assert.ok(alive, `epws died during the suite; stderr ${server.stderr()}`);
    assert.equal(code, 0);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(pathname = '/echo', options = {}) {
  const ws = new WebSocket(`wss://localhost:${server.port}${pathname}`, { ca, maxPayload: 0, ...options });
  await once(ws, 'open');
  return ws;
}

test('Node ws echoes text and binary over wss:// with the certificate verified', T, async () => {
  const ws = await open();
  for (const n of [0, 1, 126, 16384, 70000, 1 << 20]) {
    const data = randomBytes(n);
    const reply = once(ws, 'message', 10000);
    ws.send(data);
    const [got, isBinary] = await reply;
    assert.ok(isBinary);
    assert.ok(Buffer.compare(got, data) === 0, `${n} bytes`);
  }
  const reply = once(ws, 'message');
  ws.send('hello over tls');
  assert.equal(String((await reply)[0]), 'hello over tls');
  const closed = once(ws, 'close');
  ws.close(1000);
  assert.equal((await closed)[0], 1000);
});

test('permessage-deflate is agreed and round-trips over wss://', T, async () => {
  const ws = await open('/echo', { perMessageDeflate: true });
  assert.match(ws.extensions, /permessage-deflate/);
  const text = 'compressible text, '.repeat(1000);
  const reply = once(ws, 'message');
  ws.send(text);
  assert.equal(String((await reply)[0]), text);
  ws.close();
});

test('a client that does not trust the test CA is refused by its own TLS check', T, async () => {
  const ws = new WebSocket(`wss://localhost:${server.port}/echo`);
  const [e] = await once(ws, 'error');
  assert.match(String(e.code || e.message), /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF_SIGNATURE|local issuer/i);
});

test('https GET /healthz and /stats over the same port', T, async () => {
  const get = (p) => new Promise((resolve, reject) => {
    https.get({ host: 'localhost', port: server.port, path: p, ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve([res.statusCode, body]));
    }).on('error', reject);
  });
  assert.deepEqual(await get('/healthz'), [200, 'ok\n']);
  const [status, body] = await get('/stats');
  assert.equal(status, 200);
  assert.ok(JSON.parse(body).tls_handshakes >= 1);
});
