// tests/e2e/chat.test.mjs: the browser chat client in a real browser (Debian's chromium,
// headless, driven by playwright-core) against the real epws binary. Run by tests/run_all.sh
// (suite e2e, release build): node --test tests/e2e/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openChat, presence, say, status, texts, waitText } from './chat_page.mjs';
import { REPO, launchBrowser, startProxy, startServer, until } from './harness.mjs';

const T = { timeout: 30000 };  // every test is bounded
let browser;
let server;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// A fresh browser context on the chat page, signed in as name (chat_page.mjs).
function open(name, base = server.url, query = '') {
  return openChat(browser, base, name, { query });
}

test('two browsers join a room and chat both ways, in Chinese and emoji too', T, async () => {
  const a = await open('小明');
  const b = await open('Zoë 🦊');
  try {
    for (const p of [a.page, b.page]) {
      await p.fill('#join-room', 'général');
      await p.press('#join-room', 'Enter');
      await p.waitForSelector('#title:text("#général")');
    }
    await say(a.page, '你好, Zoë! 👋');
    await waitText(b.page, '你好, Zoë! 👋');
    await say(b.page, 'salut 小明 🎉\nsecond line');
    await waitText(a.page, 'salut 小明 🎉\nsecond line');
    assert.deepEqual(await texts(a.page), ['你好, Zoë! 👋', 'salut 小明 🎉\nsecond line']);
    assert.deepEqual(await texts(b.page), ['你好, Zoë! 👋', 'salut 小明 🎉\nsecond line']);
    const from = await a.page.$$eval('#messages .msg .from', (els) => els.map((e) => e.textContent));
    assert.deepEqual(from, ['小明', 'Zoë 🦊']);
    // A time is shown with every message.
    assert.equal(await a.page.$$eval('#messages .msg time', (els) => els.length), 2);

    // Unread counts: a message in the lobby while both look at général.
    await b.page.click('#rooms button[data-key="room:lobby"]');
    await say(b.page, 'lobby ping');
    await a.page.waitForSelector('#rooms button[data-key="room:lobby"] .unread:text("1")', { timeout: 10000 });

    // The screenshot for docs/ (README): the chat as a person sees it.
    await a.page.click('#rooms button[data-key="room:général"]');
    await say(a.page, 'the screenshot is taken now 📸');
    await waitText(b.page, 'the screenshot is taken now 📸').catch(() => {});
    const dir = process.env.EPWS_SCREENSHOT_DIR || path.join(REPO, 'build', 'e2e');
    mkdirSync(dir, { recursive: true });
    await a.page.screenshot({ path: path.join(dir, 'chat.png') });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('presence follows people joining and leaving; a direct message reaches only its user', T, async () => {
  const a = await open('ada');
  const b = await open('bob');
  const c = await open('cyd');
  try {
    await until(async () => (await presence(a.page)).includes('bob'), 'bob in ada\'s presence list');
    assert.ok((await presence(a.page)).includes('ada (you)'));
    await c.context.close();
    await until(async () => !(await presence(a.page)).includes('cyd'), 'cyd gone from the presence list');

    // ada opens a DM with bob from the presence list.
    await a.page.click('#presence button:text-is("bob")');
    await a.page.waitForSelector('#title:text("@bob")');
    await say(a.page, 'psst, just for you');
    await b.page.waitForSelector('#dms button[data-key="dm:ada"] .unread:text("1")', { timeout: 10000 });
    await b.page.click('#dms button[data-key="dm:ada"]');
    await waitText(b.page, 'psst, just for you');
    await say(b.page, 'got it');
    await waitText(a.page, 'got it');
    // Not in any room.
    await a.page.click('#rooms button[data-key="room:lobby"]');
    assert.ok(!(await texts(a.page)).includes('psst, just for you'));
  } finally {
    await a.context.close();
    await b.context.close();
    await c.context.close().catch(() => {});
  }
});

test('an XSS payload renders as text', T, async () => {
  const a = await open('mallory');
  const b = await open('victim');
  try {
    const payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold</b>';
    await say(a.page, payload);
    await waitText(b.page, payload);
    assert.equal(await b.page.evaluate(() => window.pwned), undefined);
    assert.equal(await b.page.$$eval('#messages img, #messages script, #messages b', (e) => e.length), 0);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('a page that loses its connection shows it, comes back by itself, and misses nothing', T, async () => {
  const proxy = await startProxy(server);
  const fast = '?backoffMs=200&backoffMaxMs=1500';
  const a = await open('roamer', proxy.url, fast);  // through the proxy the test can cut
  const b = await open('homebody');
  try {
    await say(b.page, 'before the cut');
    await waitText(a.page, 'before the cut');
    // Every text the status line shows, recorded as it changes: with a short backoff the
    // countdown may be replaced by "connecting…" before the test could read it.
    await a.page.evaluate(() => {
      window.statusTexts = [];
      const el = document.querySelector('#status');
      new MutationObserver(() => window.statusTexts.push(el.textContent))
        .observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
    });
    proxy.cut();
    await status(a.page, 'reconnecting');
    await until(() => a.page.evaluate(() => window.statusTexts.some((t) => /reconnecting in \d+ s/.test(t))),
      'the status line counting down to the next attempt');
    // Typed while offline: queued, sent after the reconnect.
    await say(a.page, 'typed while offline');
    await a.page.waitForSelector('#queued:not([hidden])');
    for (let i = 1; i <= 5; i++) await say(b.page, `while away ${i}`);
    await waitText(b.page, 'while away 5');
    proxy.restore();
    await status(a.page, 'open', 15000);
    await waitText(a.page, 'while away 5');
    await waitText(b.page, 'typed while offline');
    await waitText(a.page, 'typed while offline');
    // (A page starts with the lobby's recent history: look from the first message of this test.)
    const shown = await texts(a.page);
    const got = shown.slice(shown.indexOf('before the cut'));
    const want = ['before the cut', 'while away 1', 'while away 2', 'while away 3', 'while away 4',
      'while away 5', 'typed while offline'];
    assert.deepEqual(got, want, 'every message exactly once, in order');
    // Sequence numbers shown are strictly increasing.
    const seqs = (await a.page.$$eval('#messages .msg', (els) => els.map((e) => Number(e.dataset.seq))))
      .slice(shown.indexOf('before the cut'));
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `seqs ${seqs}`);
  } finally {
    await a.context.close();
    await b.context.close();
    await proxy.close();
  }
});

test('a silent dead link is found by the application ping and replaced', T, async () => {
  const proxy = await startProxy(server);
  const a = await open('pinger', proxy.url, '?pingMs=500&pongTimeoutMs=700&backoffMs=100&backoffMaxMs=500');
  try {
    await until(() => a.page.evaluate(() => window.chat.lastRttMs !== null), 'a first pong');
    await a.page.evaluate(() => {
      window.seen = [];
      window.chat.addEventListener('state', (e) => window.seen.push(e.detail.status));
    });
    proxy.freeze();  // TCP stays up, nothing gets through
    await until(() => a.page.evaluate(() => window.seen.includes('reconnecting')), 'the dead link noticed', 5000);
    assert.match(await a.page.evaluate(() => window.chat.state.reason), /no pong/);
    // The page's keep-alive HTTP connection froze too: whoami may time out (5 s) once first.
    await until(() => a.page.evaluate(() => window.chat.isOpen()), 'a new connection', 15000);
  } finally {
    await a.context.close();
    await proxy.close();
  }
});

test('the browser coming back online retries at once', T, async () => {
  const proxy = await startProxy(server);
  // A long backoff: only the online event can bring it back within the deadline.
  const a = await open('commuter', proxy.url, '?backoffMs=60000&backoffMaxMs=60000');
  try {
    await a.context.setOffline(true);
    proxy.cut();
    await status(a.page, 'reconnecting');
    await until(() => a.page.evaluate(() => window.chat.state.attempt >= 1), 'a failed attempt');
    await until(() => a.page.evaluate(() => window.chat.retryInMs() > 5000), 'a long backoff', 20000);
    proxy.restore();
    await a.context.setOffline(false);
    await status(a.page, 'open', 5000);
  } finally {
    await a.context.close();
    await proxy.close();
  }
});

test('a bad name is refused up front and never retried', T, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const before = await (await fetch(`${server.url}/stats`)).json();
    await page.goto(`${server.url}/`);
    await page.fill('#name', 'x'.repeat(40));  // over 32 code points
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#login-error:not(:empty)', { timeout: 10000 });
    assert.equal(await page.evaluate(() => window.chat.state.status), 'closed');
    const after = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(after.rejected_handshakes, before.rejected_handshakes, 'no upgrade was even tried');
  } finally {
    await context.close();
  }
});

test('the page reconnects by itself after the server restarts', T, async () => {
  const own = await startServer([]);
  const port = own.port;
  const a = await open('survivor', own.url, '?backoffMs=200&backoffMaxMs=1000');
  let again;
  try {
    await say(a.page, 'before the restart');
    await waitText(a.page, 'before the restart');
    await own.stop();
    await status(a.page, 'reconnecting');
    again = await startServer([], port);
    await status(a.page, 'open', 15000);
    await a.page.waitForSelector('#messages .notice:text("the server restarted")', { timeout: 5000 });
    // Sequence numbers started again at 1: new messages still show.
    await say(a.page, 'after the restart');
    await waitText(a.page, 'after the restart');
  } finally {
    await a.context.close();
    if (again) await again.stop();
    await own.stop();
  }
});

test('/inspect shows each frame with its size and the server\'s view', T, async () => {
  // A server of its own on two loops that pings every half second, so the server's round trip
  // shows, and the page's connection and its HTTP polls may land on different loops.
  const pinging = await startServer(['--threads', '2', '--ping-interval', '0.5']);
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${pinging.url}/inspect?username=inspector`);
    await page.waitForSelector('#status[data-status="open"]', { timeout: 10000 });
    await page.waitForSelector('#frames tr.in td.data:text("welcome")', { timeout: 5000 });
    await page.click('#send button[type=submit]');
    await page.waitForSelector('#frames tr.out td.data:text("hello")', { timeout: 5000 });
    const bytes = await page.textContent('#frames tr.out td.bytes');
    assert.equal(Number(bytes), Buffer.byteLength('{"type":"say","room":"lobby","text":"hello"}'));
    await page.waitForSelector('#server-view dd[data-key="deflate mode"]', { timeout: 5000 });
    assert.match(await page.textContent('#client-view dd[data-key="extensions"]'), /permessage-deflate/);

    // The server's counts of this very connection equal the page's own, message for message
    // and byte for byte (payload bytes: the messages as the page sees them).
    const dd = (view, key) => page.textContent(`#${view} dd[data-key="${key}"]`, { timeout: 1000 })
      .catch(() => '');
    let seen = {};
    await until(async () => {
      const sent = (await dd('client-view', 'sent')).match(/^(\d+) messages, (\d+) bytes$/);
      const recv = (await dd('client-view', 'received')).match(/^(\d+) messages, (\d+) bytes$/);
      seen = { sent, recv, messages: await dd('server-view', 'messages in / out'),
        payload: await dd('server-view', 'payload bytes in / out') };
      return sent && recv && Number(sent[1]) >= 2 &&
        seen.messages === `${sent[1]} / ${recv[1]}` && seen.payload === `${sent[2]} / ${recv[2]}`;
    }, `the server's counts to equal the page's (last seen ${JSON.stringify(seen)})`, 10000);
    const id = await page.evaluate(() => window.chat.connectionId);
    assert.equal(typeof id, 'number');
    assert.match(await dd('server-view', 'connection'), new RegExp(`^${id} \\(inspector\\), on loop [01]; `));
    assert.match(await dd('server-view', 'negotiated'), /^permessage-deflate; /);
    const wire = (await dd('server-view', 'wire bytes in / out')).split(' / ').map(Number);
    assert.ok(wire[0] > 0 && wire[1] > 0, `wire bytes ${wire}`);
    // Chromium compresses what it sends, so the ratio in is a real one.
    assert.match(await dd('server-view', 'compressed in'), /^\d+% \(\d+ → \d+ B\)$/);
    // The browser answers the server's WebSocket pings by itself: the round trip shows.
    await until(async () => /^\d+\.\d{3} ms$/.test(await dd('server-view', 'ping RTT (server)')),
      'the server-measured ping round trip', 10000);
  } finally {
    await context.close();
    await pinging.stop();
  }
});

test('/inspect with a JWT secret uses the tab\'s session token for /chat and /api/connections', T, async () => {
  // Issue 13: with a secret, GET /api/connections needs a token and shows only its user's
  // connections; the page must send the one its session (web/session.js) holds.
  const secret = 'e2e-inspect-secret-0123456789';
  const jwt = await startServer(['--jwt-secret', secret]);
  const bin = process.env.EPWS_BIN || path.join(REPO, 'build/release/epws');
  const token = execFileSync(bin, ['token', '--secret', secret, '--user', 'alice', '--ttl', '1h'])
    .toString().trim();
  const context = await browser.newContext();
  // The chat page's session in this tab, as saveSession writes it.
  await context.addInitScript(([t]) => {
    sessionStorage.setItem('epws-session', JSON.stringify({ name: 'alice', token: t, rooms: {}, convs: [], queue: [] }));
  }, [token]);
  const page = await context.newPage();
  try {
    await page.goto(`${jwt.url}/inspect`);
    await page.waitForSelector('#status[data-status="open"]', { timeout: 10000 });
    const id = await page.evaluate(() => window.chat.connectionId);
    await page.waitForSelector('#server-view dd[data-key="connection"]', { timeout: 5000 });
    assert.match(await page.textContent('#server-view dd[data-key="connection"]'),
      new RegExp(`^${id} \\(alice\\), on loop [01]; `));
    // Without the token the same question is refused.
    const anonymous = await page.evaluate(async (n) => (await fetch(`/api/connections?id=${n}`)).status, id);
    assert.equal(anonymous, 401);
  } finally {
    await context.close();
    await jwt.stop();
  }
});
