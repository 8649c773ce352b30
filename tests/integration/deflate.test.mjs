// tests/integration/deflate.test.mjs: permessage-deflate (RFC 7692) with Node's ws
// (perMessageDeflate on) against epws /echo, in each server memory mode, with context takeover on
// and off, messages of 0 bytes to 1 MiB, text and binary, whole and fragmented.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { startServer, once } from './server.mjs';

const require = createRequire(new URL('../package.json', import.meta.url));
const WebSocket = require('ws');

const T = { timeout: 60000 };
const SIZES = [0, 1, 63, 64, 125, 126, 4096, 65535, 65536, 1 << 20];
const MODES = {
  shared: [],
  dedicated: ['--deflate', 'dedicated'],
  'dedicated, small windows': ['--deflate', 'dedicated', '--deflate-window-bits', '10',
                               '--deflate-mem-level', '4', '--deflate-level', '1'],
};
// Client offers: ws's default (context takeover both ways), and no context takeover.
const OFFERS = {
  'context takeover': { threshold: 0 },
  'no context takeover': { threshold: 0, serverNoContextTakeover: true,
                           clientNoContextTakeover: true, serverMaxWindowBits: 11 },
};

const servers = {};
before(async () => {
  for (const [name, flags] of Object.entries(MODES)) servers[name] = await startServer(flags);
});
after(async () => {
  for (const s of Object.values(servers)) {
    const alive = s.proc.exitCode === null && s.proc.signalCode === null;
    const code = await s.stop();
    assert.ok(alive, `epws died during the suite; stderr ${s.stderr().slice(-2000)}`);
    assert.equal(code, 0, 'exit status after SIGTERM');
  }
});

function words(n) {
  return 'the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(n / 44) + 1).slice(0, n);
}

async function open(server, perMessageDeflate) {
  const ws = new WebSocket(server.url(), { maxPayload: 0, perMessageDeflate });
  await once(ws, 'open');
  return ws;
}

async function echo(ws, data, options) {
  const reply = once(ws, 'message', 20000);
  ws.send(data, options);
  return reply;
}

async function closed(ws) {
  const done = once(ws, 'close', 5000);
  ws.close();
  const [code] = await done;
  assert.equal(code, 1005);  // ws closes with no status; the server echoes none
}

for (const mode of Object.keys(MODES)) {
  for (const [offerName, offer] of Object.entries(OFFERS)) {
    test(`${mode} mode, ${offerName}: the extension is agreed`, T, async () => {
      const ws = await open(servers[mode], offer);
      assert.match(ws.extensions, /^permessage-deflate/);
      await closed(ws);
    });

    test(`${mode} mode, ${offerName}: text and binary of every size round trip`, T, async () => {
      const ws = await open(servers[mode], offer);
      for (const n of SIZES) {
        const [t, tBinary] = await echo(ws, words(n));
        assert.equal(tBinary, false);
        assert.equal(t.toString(), words(n), `text of ${n}`);
        const payload = randomBytes(n);
        const [b, bBinary] = await echo(ws, payload);
        assert.equal(bBinary, true);
        assert.deepEqual(b, payload, `binary of ${n}`);
      }
      await closed(ws);
    });

    test(`${mode} mode, ${offerName}: fragmented messages round trip`, T, async () => {
      const ws = await open(servers[mode], offer);
      const parts = [words(1000), 'é'.repeat(3000), words(70000)];
      const reply = once(ws, 'message', 20000);
      ws.send(parts[0], { fin: false });
      ws.send(parts[1], { fin: false });
      ws.send(parts[2], { fin: true });
      const [data] = await reply;
      assert.equal(data.toString(), parts.join(''));
      await closed(ws);
    });
  }
}
