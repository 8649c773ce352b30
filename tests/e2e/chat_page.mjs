// tests/e2e/chat_page.mjs: what a person does and sees on the chat page, for the browser
// suites (chat, session, layout). Layer: tests/. Every wait polls against a deadline.
import { until } from './harness.mjs';

export const DESKTOP = { width: 1000, height: 640 };
export const PHONE = { width: 390, height: 844 };

// A fresh browser context (its own cookies and storage) on the chat page at base, signed in
// as name.
export async function openChat(browser, base, name, { query = '', viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`# page error (${name}): ${e.message}`));
  await page.goto(`${base}/${query}`, { timeout: 10000 });
  await page.fill('#name', name);
  await page.click('#login button[type=submit]');
  await status(page, 'open');
  return { context, page };
}

export function status(page, want, timeout = 10000) {
  return page.waitForSelector(`#status[data-status="${want}"]`, { timeout });
}

export async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

// The texts of the messages shown in the current conversation, in order.
export function texts(page) {
  return page.$$eval('#messages .msg .text', (els) => els.map((e) => e.textContent));
}

export async function waitText(page, text, timeout = 10000) {
  await until(async () => (await texts(page)).includes(text), `"${text}" on the page`, timeout);
}

export function presence(page) {
  return page.$$eval('#presence button', (els) => els.map((e) => e.textContent));
}

// The conversation keys in the sidebar lists ("room:lobby", "dm:bob"), in order.
export function conversations(page) {
  return page.$$eval('#rooms button[data-key], #dms button[data-key]', (els) => els.map((e) => e.dataset.key));
}

// Joins room from the sidebar form (on a phone, opens the ☰ drawer first).
export async function joinRoom(page, room) {
  if (await page.isVisible('#menu') && !(await page.isVisible('#join-room'))) await page.click('#menu');
  await page.fill('#join-room', room);
  await page.press('#join-room', 'Enter');
  await page.waitForSelector(`#title:text-is("#${room}")`, { timeout: 5000 });
}

// Opens a DM conversation with user from the sidebar form.
export async function openDm(page, user) {
  if (await page.isVisible('#menu') && !(await page.isVisible('#dm-user'))) await page.click('#menu');
  await page.fill('#dm-user', user);
  await page.press('#dm-user', 'Enter');
  await page.waitForSelector(`#title:text-is("@${user}")`, { timeout: 5000 });
}

// Shows the conversation key (a sidebar click; on a phone, through the ☰ drawer).
export async function showConversation(page, key) {
  if (await page.isVisible('#menu') && !(await page.isVisible('#rooms'))) await page.click('#menu');
  await page.click(`#rooms button[data-key="${key}"], #dms button[data-key="${key}"]`);
}

// The pixels of a PNG (a playwright screenshot), decoded by the browser itself in a blank page
// of its own (no CSP there): { width, height, data } with data RGBA bytes.
export async function decodePng(browser, png) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const { width, height, data } = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      let s = '';
      for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode(...px.subarray(i, i + 0x8000));
      return { width: c.width, height: c.height, data: btoa(s) };
    }, png.toString('base64'));
    return { width, height, data: Buffer.from(data, 'base64') };
  } finally {
    await context.close();
  }
}
