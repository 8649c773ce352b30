// tests/e2e/layout.test.mjs: what the pages look like, measured in a real browser (Debian's
// chromium, headless) at a desktop and a phone width: the login card alone, the ☰ unread badge,
// the growing text box, bubbles as wide as their text, the /inspect layout. Layer: tests/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, decodePng, joinRoom, openChat, openDm, say, showConversation, status, waitText }
  from './chat_page.mjs';
import { REPO, launchBrowser, startServer, until } from './harness.mjs';

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

const shots = process.env.EPWS_SCREENSHOT_DIR || path.join(REPO, 'build', 'e2e');

// The login card is all there is: no part of the chat has a box, and every pixel of a
// screenshot outside the card (and its shadow) is the page's background.
async function assertLoginAlone(page, when) {
  await page.waitForSelector('#login-view', { state: 'visible', timeout: 5000 });
  for (const sel of ['#chat-view', '.topbar', '#sidebar', '#messages', '#composer']) {
    assert.equal(await page.isVisible(sel), false, `${when}: ${sel} is visible`);
    const box = await page.locator(sel).boundingBox();
    assert.ok(box === null || box.width * box.height === 0, `${when}: ${sel} has a box ${JSON.stringify(box)}`);
  }
  const card = await page.locator('#login-view').boundingBox();
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor
    .match(/\d+/g).map(Number));
  const img = await decodePng(browser, await page.screenshot());
  const shadow = 16;  // the card's box-shadow (0 2px 12px) reaches this far
  let off = 0, first = null;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (x >= card.x - shadow && x < card.x + card.width + shadow &&
          y >= card.y - shadow && y < card.y + card.height + shadow) continue;
      const i = (y * img.width + x) * 4;
      if (Math.abs(img.data[i] - bg[0]) + Math.abs(img.data[i + 1] - bg[1]) + Math.abs(img.data[i + 2] - bg[2]) > 6) {
        off += 1;
        first ??= `(${x}, ${y})`;
      }
    }
  }
  assert.equal(off, 0, `${when}: ${off} pixels outside the login card are not background, the first at ${first}`);
}

test('the login card is all a visitor sees: on first load, after a reload, after a refused name', T, async () => {
  for (const viewport of [DESKTOP, PHONE]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    try {
      await page.goto(`${server.url}/`);
      await assertLoginAlone(page, `first load at ${viewport.width} px`);
      await page.reload();
      await assertLoginAlone(page, `a reload at ${viewport.width} px`);
      await page.fill('#name', 'x'.repeat(40));  // over 32 code points: refused
      await page.click('#login button[type=submit]');
      await page.waitForSelector('#login-error:not(:empty)', { timeout: 10000 });
      await assertLoginAlone(page, `a refused name at ${viewport.width} px`);
      // A refused name is not a session: a reload shows the login again, not a retry.
      await page.reload();
      await assertLoginAlone(page, `a reload after a refused name at ${viewport.width} px`);
      if (viewport === PHONE) await page.screenshot({ path: path.join(shots, 'login-phone.png') });
    } finally {
      await context.close();
    }
  }
});

test('on a phone, ☰ shows how many messages arrived in other rooms and DMs', T, async () => {
  mkdirSync(shots, { recursive: true });
  const a = await openChat(browser, server.url, 'thumbs', { viewport: PHONE });
  const b = await openChat(browser, server.url, 'typist');
  try {
    await say(b.page, 'hello from a desktop 👋');
    await waitText(a.page, 'hello from a desktop 👋');
    await say(a.page, 'hi from a phone');
    await joinRoom(a.page, 'side');
    await showConversation(a.page, 'room:lobby');
    assert.equal(await a.page.isVisible('#sidebar'), false, 'the drawer closes on a choice');
    assert.equal(await a.page.isVisible('#menu-unread'), false, 'no badge before anything is unread');
    await joinRoom(b.page, 'side');
    await say(b.page, 'over here');
    const badge = async (want) => until(async () =>
      await a.page.isVisible('#menu-unread') && (await a.page.textContent('#menu-unread')) === want,
    `the ☰ badge showing ${want}`);
    await badge('1');
    // The badge is drawn on the button, inside the page.
    const menu = await a.page.locator('#menu').boundingBox();
    const dot = await a.page.locator('#menu-unread').boundingBox();
    assert.ok(dot.x < menu.x + menu.width && dot.x + dot.width > menu.x &&
      dot.y < menu.y + menu.height && dot.y + dot.height > menu.y, `badge ${JSON.stringify(dot)} off ☰ ${JSON.stringify(menu)}`);
    assert.ok(dot.x >= 0 && dot.y >= 0 && dot.x + dot.width <= PHONE.width, 'the badge is inside the page');
    assert.match(await a.page.getAttribute('#menu', 'aria-label'), /1 unread/);
    // A DM counts too.
    await openDm(b.page, 'thumbs');
    await say(b.page, 'psst');
    await badge('2');
    assert.match(await a.page.title(), /^\(2\) /);
    await a.page.screenshot({ path: path.join(shots, 'chat-phone.png') });
    // Each entry in the drawer has its own count; opening one takes its count off ☰.
    await a.page.click('#menu');
    await a.page.screenshot({ path: path.join(shots, 'drawer-phone.png') });
    assert.equal(await a.page.textContent('#rooms button[data-key="room:side"] .unread'), '1');
    assert.equal(await a.page.textContent('#dms button[data-key="dm:typist"] .unread'), '1');
    await a.page.click('#dms button[data-key="dm:typist"]');
    await waitText(a.page, 'psst');
    await badge('1');
    await showConversation(a.page, 'room:side');
    await until(async () => !(await a.page.isVisible('#menu-unread')), 'the badge gone once all is read');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('the text box grows with each Shift+Enter line up to a bound, and its placeholder fits', T, async () => {
  for (const viewport of [DESKTOP, PHONE]) {
    const a = await openChat(browser, server.url, `writer${viewport.width}`, { viewport });
    try {
      const box = () => a.page.$eval('#text', (e) => ({
        height: e.getBoundingClientRect().height, scroll: e.scrollHeight, client: e.clientHeight,
        max: parseFloat(getComputedStyle(e).maxHeight),
      }));
      // The placeholder as drawn (the box's font) fits inside the box: not cut.
      const fits = await a.page.$eval('#text', (e) => {
        const cs = getComputedStyle(e);
        const g = document.createElement('canvas').getContext('2d');
        g.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        return { text: e.placeholder, width: g.measureText(e.placeholder).width, room };
      });
      assert.ok(fits.width <= fits.room, `placeholder "${fits.text}" (${fits.width} px) in ${fits.room} px`);
      assert.match(fits.text, /#lobby/);
      const one = await box();
      await a.page.focus('#text');
      await a.page.keyboard.type('line 1');
      const heights = [one.height];
      for (let i = 2; i <= 9; i++) {
        await a.page.keyboard.press('Shift+Enter');
        await a.page.keyboard.type(`line ${i}`);
        const b = await box();
        heights.push(b.height);
        // Until the bound every line is in view; past it the box scrolls.
        if (b.height < b.max - 1) assert.ok(b.scroll <= b.client + 1, `line ${i} hidden: ${JSON.stringify(b)}`);
      }
      for (let i = 1; i < 4; i++) {
        assert.ok(heights[i] > heights[i - 1] + 10, `line ${i + 1} did not grow the box: ${heights}`);
      }
      const last = await box();
      assert.ok(last.height <= last.max + 0.5 && last.max <= 0.3 * viewport.height + 40, `bounded: ${JSON.stringify(last)}`);
      assert.equal(heights.at(-1), heights.at(-2), `the box stops growing at its bound: ${heights}`);
      assert.ok(last.scroll > last.client, 'past the bound the box scrolls');
      assert.equal((await a.page.inputValue('#text')).split('\n').length, 9);
      await a.page.keyboard.press('Enter');
      await waitText(a.page, Array.from({ length: 9 }, (_, i) => `line ${i + 1}`).join('\n'));
      assert.equal((await box()).height, one.height, 'one line again after sending');
    } finally {
      await a.context.close();
    }
  }
});

// Each bubble of the conversation: its box, the list's content box, and how wide its content
// is when laid out on its own lines (the name and time, the text's widest line).
function bubbles(page) {
  return page.$$eval('#messages .msg', (els) => els.map((li) => {
    const widthOf = (node) => { const r = document.createRange(); r.selectNodeContents(node); return r.getBoundingClientRect().width; };
    const cs = getComputedStyle(li);
    const meta = li.querySelector('.meta');
    const kids = [...meta.children].map((k) => k.getBoundingClientRect());
    const list = li.parentElement.getBoundingClientRect();
    const lcs = getComputedStyle(li.parentElement);
    return {
      text: li.querySelector('.text').textContent,
      mine: li.classList.contains('mine'),
      box: li.getBoundingClientRect().toJSON(),
      inner: li.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
      natural: Math.max(widthOf(li.querySelector('.text')), kids.at(-1).right - kids[0].left),
      listLeft: list.left + parseFloat(lcs.paddingLeft),
      listRight: list.right - parseFloat(lcs.paddingRight) - (li.parentElement.offsetWidth - li.parentElement.clientWidth),
    };
  }));
}

test('every bubble is as wide as its text, one\'s own and other people\'s', T, async () => {
  const a = await openChat(browser, server.url, 'me');
  const b = await openChat(browser, server.url, 'someone');
  const long = 'a long message that has to wrap onto more than one line, whatever the width of the screen, '.repeat(3).trim();
  try {
    for (const p of [a.page, b.page]) await joinRoom(p, 'bubbles');
    await say(a.page, 'hi');
    await waitText(b.page, 'hi');
    await say(b.page, 'ok');
    await say(b.page, long);
    await say(a.page, 'a little longer, mine');
    await waitText(a.page, 'a little longer, mine');
    for (const viewport of [DESKTOP, PHONE]) {
      await a.page.setViewportSize(viewport);
      const all = await bubbles(a.page);
      assert.deepEqual(all.map((x) => [x.text, x.mine]),
        [['hi', true], ['ok', false], [long, false], ['a little longer, mine', true]]);
      for (const x of all) {
        const where = `"${x.text.slice(0, 20)}" at ${viewport.width} px`;
        if (x.text === long) {
          // Wrapped: as wide as the bound lets it be, no wider.
          assert.ok(x.box.width <= 0.85 * (x.listRight - x.listLeft) + 1, `${where}: ${JSON.stringify(x)}`);
        } else {
          assert.ok(x.inner - x.natural <= 2, `${where}: a ${x.inner} px bubble for ${x.natural} px of content`);
        }
        // Yours on the right, theirs on the left.
        if (x.mine) assert.ok(Math.abs(x.box.right - x.listRight) <= 1, `${where} is not on the right: ${JSON.stringify(x)}`);
        else assert.ok(Math.abs(x.box.left - x.listLeft) <= 1, `${where} is not on the left: ${JSON.stringify(x)}`);
      }
    }
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('/inspect: the status badge is centred on its row and no parameter breaks mid-word', T, async () => {
  for (const viewport of [DESKTOP, PHONE]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    try {
      await page.goto(`${server.url}/inspect?username=looker${viewport.width}`);
      await status(page, 'open');
      await page.waitForSelector('#server-view dd[data-key="negotiated"]', { timeout: 5000 });
      await page.screenshot({ path: path.join(shots, `inspect-${viewport.width}.png`), fullPage: true });
      const row = await page.evaluate(() => {
        const badge = document.querySelector('#status');
        const r = document.createRange();
        r.selectNodeContents(badge);
        const text = r.getBoundingClientRect();
        const input = document.querySelector('#name').getBoundingClientRect();
        return { badge: badge.getBoundingClientRect().toJSON(), text: text.toJSON(), input: input.toJSON() };
      });
      const mid = (b) => b.y + b.height / 2;
      assert.ok(Math.abs(mid(row.text) - mid(row.input)) <= 1.5,
        `at ${viewport.width} px the badge's text is ${mid(row.text) - mid(row.input)} px off its row's centre`);
      assert.ok(row.badge.height < row.input.height, `the badge is stretched: ${JSON.stringify(row)}`);

      // Every word of every value sits on one line (a word broken across lines has two boxes),
      // and no value runs out of its box.
      const broken = await page.evaluate(() => {
        const out = [];
        for (const dd of document.querySelectorAll('#client-view dd, #server-view dd')) {
          if (dd.scrollWidth > dd.clientWidth + 1) out.push(`${dd.dataset.key}: overflows`);
          const walk = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
          for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            for (const m of n.data.matchAll(/\S+/g)) {
              const r = document.createRange();
              r.setStart(n, m.index);
              r.setEnd(n, m.index + m[0].length);
              const lines = new Set([...r.getClientRects()].filter((b) => b.width > 0).map((b) => Math.round(b.top)));
              if (lines.size > 1) out.push(`${dd.dataset.key}: "${m[0]}" on ${lines.size} lines`);
            }
          }
        }
        return out;
      });
      assert.deepEqual(broken, [], `at ${viewport.width} px`);
      assert.match(await page.textContent('#server-view dd[data-key="negotiated"]'),
        /^permessage-deflate; server_max_window_bits=\d+; client_max_window_bits=\d+/);
    } finally {
      await context.close();
    }
  }
});
