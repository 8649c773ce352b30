// tests/e2e/session.test.mjs: the chat page's session in a real browser (Debian's chromium,
// headless): a reload resumes it by itself (rooms rejoined with since, DMs kept, nothing twice,
// nothing missed), leaving a room and closing a DM. Layer: tests/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { conversations, joinRoom, openChat, openDm, presence, say, showConversation, status, texts, waitText }
  from './chat_page.mjs';
import { launchBrowser, startServer, until } from './harness.mjs';

const T = { timeout: 40000 };
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

// Records every frame the page's WebSockets send, as parsed JSON, from now on (reloads too).
function recordSent(page) {
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => {
    try { sent.push(JSON.parse(f.payload)); } catch (e) { /* not JSON: not ours */ }
  }));
  return sent;
}

test('a reload resumes the session: rooms and DMs come back, what was said meanwhile shows once', T, async () => {
  const a = await openChat(browser, server.url, 'reloader');
  const b = await openChat(browser, server.url, 'friend');
  try {
    await say(b.page, 'lobby before');
    await waitText(a.page, 'lobby before');
    for (const p of [a.page, b.page]) await joinRoom(p, 'dev');
    await say(b.page, 'dev before');
    await waitText(a.page, 'dev before');
    await openDm(a.page, 'friend');
    await say(a.page, 'dm before');
    await b.page.click('#dms button[data-key="dm:reloader"]');
    await waitText(b.page, 'dm before');
    await say(b.page, 'dm reply before');
    await waitText(a.page, 'dm reply before');
    await showConversation(b.page, 'room:dev');
    // The last seq of each room the page shows.
    const marks = await a.page.evaluate(() => Object.fromEntries([...window.chat.rooms].map(([r, x]) => [r, x.lastSeq])));

    // Reload, and hold the reloaded page's first step (GET /api/whoami) until friend has said
    // more: those messages are sent while reloader has no connection at all.
    const sent = recordSent(a.page);
    let release;
    const gate = new Promise((r) => { release = r; });
    let held = 0;
    const whoami = (url) => url.pathname === '/api/whoami';
    await a.page.route(whoami, async (route) => { held += 1; await gate; await route.continue(); });
    const reloaded = a.page.reload();
    await until(() => held > 0, 'the reloaded page asking whoami, with no login');
    await until(async () => !(await presence(b.page)).includes('reloader'), 'reloader gone from #dev');
    for (let i = 1; i <= 3; i++) await say(b.page, `dev while reloading ${i}`);
    await waitText(b.page, 'dev while reloading 3');
    await showConversation(b.page, 'room:lobby');
    await say(b.page, 'lobby while reloading');
    await waitText(b.page, 'lobby while reloading');
    release();
    await reloaded;
    await status(a.page, 'open');
    await a.page.unroute(whoami);

    // No login: the same user, the same conversations, the DM shown as it was.
    assert.equal(await a.page.isVisible('#login-view'), false);
    assert.equal(await a.page.evaluate(() => window.chat.user), 'reloader');
    assert.deepEqual(await conversations(a.page), ['room:lobby', 'room:dev', 'dm:friend']);
    assert.equal(await a.page.textContent('#title'), '@friend');
    assert.deepEqual(await texts(a.page), ['dm before', 'dm reply before']);
    // Every room rejoined with since: the last seq the page had shown.
    await until(() => sent.filter((m) => m.type === 'join').length >= 2, 'the rejoins');
    const joins = Object.fromEntries(sent.filter((m) => m.type === 'join').map((m) => [m.room, m.since]));
    assert.deepEqual(joins, marks);
    assert.ok(joins.dev > 0 && joins.lobby > 0, `since ${JSON.stringify(joins)}`);
    // What was missed is unread, and shows once, after what was there.
    await a.page.waitForSelector('#rooms button[data-key="room:dev"] .unread:text-is("3")', { timeout: 5000 });
    await a.page.waitForSelector('#rooms button[data-key="room:lobby"] .unread:text-is("1")', { timeout: 5000 });
    await showConversation(a.page, 'room:dev');
    assert.deepEqual(await texts(a.page),
      ['dev before', 'dev while reloading 1', 'dev while reloading 2', 'dev while reloading 3']);
    const seqs = await a.page.$$eval('#messages .msg', (els) => els.map((e) => Number(e.dataset.seq)));
    assert.ok(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1), `seqs ${seqs}`);
    await showConversation(a.page, 'room:lobby');
    const lobby = await texts(a.page);
    assert.deepEqual(lobby.slice(lobby.indexOf('lobby before')), ['lobby before', 'lobby while reloading']);
    // And the live conversation goes on.
    await say(b.page, 'after the reload');
    await waitText(a.page, 'after the reload');
    assert.equal((await texts(a.page)).filter((t) => t === 'after the reload').length, 1);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('text typed while the page cannot connect survives a reload and is sent once', T, async () => {
  const a = await openChat(browser, server.url, 'patient', { query: '?backoffMs=200&backoffMaxMs=1000' });
  const b = await openChat(browser, server.url, 'reader');
  try {
    // The server looks unreachable to the page: every GET /api/whoami fails.
    const whoami = (url) => url.pathname === '/api/whoami';
    await a.page.route(whoami, (route) => route.abort('connectionrefused'));
    await a.page.reload();
    await status(a.page, 'reconnecting');
    await say(a.page, 'typed while unreachable');
    await a.page.waitForSelector('#queued:text("1 message waiting")', { timeout: 2000 });
    await a.page.reload();
    await status(a.page, 'reconnecting');
    await a.page.waitForSelector('#queued:text("1 message waiting")', { timeout: 2000 });
    await a.page.unroute(whoami);
    await status(a.page, 'open', 10000);
    await waitText(b.page, 'typed while unreachable');
    await waitText(a.page, 'typed while unreachable');
    await a.page.waitForSelector('#queued', { state: 'hidden', timeout: 2000 });
    await say(b.page, 'got it');
    await waitText(a.page, 'got it');
    for (const p of [a.page, b.page]) {
      assert.equal((await texts(p)).filter((t) => t === 'typed while unreachable').length, 1);
    }
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('leaving a room tells the server and lasts through a reload; a closed DM reopens on the next DM', T, async () => {
  const a = await openChat(browser, server.url, 'leaver');
  const b = await openChat(browser, server.url, 'stayer');
  try {
    for (const p of [a.page, b.page]) await joinRoom(p, 'temp');
    await until(async () => (await presence(b.page)).includes('leaver'), 'leaver in #temp');
    await a.page.click('#rooms button.close[data-close="room:temp"]');
    assert.deepEqual(await conversations(a.page), ['room:lobby']);
    assert.equal(await a.page.textContent('#title'), '#lobby', 'the next conversation is shown');
    await until(async () => !(await presence(b.page)).includes('leaver'), 'the server to see leaver leave #temp');
    // What is said in #temp no longer reaches the page (a message in lobby after it does).
    await say(b.page, 'after you left');
    await showConversation(b.page, 'room:lobby');
    await say(b.page, 'marker');
    await waitText(a.page, 'marker');
    assert.deepEqual(await conversations(a.page), ['room:lobby']);
    assert.equal(await a.page.$$eval('#rooms .unread, #dms .unread', (els) => els.length), 0);

    // A DM conversation closes with its ×, and comes back with the next DM, unread.
    await openDm(a.page, 'stayer');
    await say(a.page, 'hello stayer');
    await a.page.click('#dms button.close[data-close="dm:stayer"]');
    assert.deepEqual(await conversations(a.page), ['room:lobby']);
    await b.page.click('#dms button[data-key="dm:leaver"]');
    await say(b.page, 'come back');
    await a.page.waitForSelector('#dms button[data-key="dm:stayer"] .unread:text-is("1")', { timeout: 5000 });
    await showConversation(b.page, 'room:lobby');
    await until(async () => (await presence(b.page)).includes('leaver'), 'leaver in lobby');

    // Leave lobby too: the server puts every new connection there, the page leaves it again.
    const sent = [];
    a.page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(f.payload)));
    await a.page.click('#rooms button.close[data-close="room:lobby"]');
    assert.deepEqual(await conversations(a.page), ['dm:stayer']);
    assert.equal(await a.page.textContent('#title'), '@stayer');
    await a.page.reload();
    await status(a.page, 'open');
    assert.deepEqual(await conversations(a.page), ['dm:stayer']);
    await until(() => sent.some((f) => /"type":"leave","room":"lobby"/.test(f)), 'the page leaving lobby again');
    await until(async () => !(await presence(b.page)).includes('leaver'), 'leaver out of lobby');
    assert.deepEqual(await texts(a.page), ['come back'], 'a closed DM starts again empty');

    // With nothing open, the page says so and there is nothing to type into.
    await a.page.click('#dms button.close[data-close="dm:stayer"]');
    assert.deepEqual(await conversations(a.page), []);
    await a.page.waitForSelector('#messages .empty', { timeout: 2000 });
    assert.equal(await a.page.isDisabled('#text'), true);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('sign out ends the tab\'s session: a reload shows the login', T, async () => {
  const a = await openChat(browser, server.url, 'leaving-for-good');
  try {
    await a.page.click('#signout');
    await a.page.waitForSelector('#login-view', { state: 'visible', timeout: 2000 });
    assert.equal(await a.page.isVisible('#chat-view'), false);
    await a.page.reload();
    await a.page.waitForSelector('#login-view', { state: 'visible', timeout: 5000 });
    assert.equal(await a.page.evaluate(() => window.chat ? window.chat.state.status : 'none'), 'none');
  } finally {
    await a.context.close();
  }
});
