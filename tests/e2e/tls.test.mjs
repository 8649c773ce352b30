// tests/e2e/tls.test.mjs: the browser client once over https:// and wss:// in headless Chromium,
// trusting the test's own certificate (made here with the openssl command, pinned by its key
// with --ignore-certificate-errors-spki-list, so every other certificate is still checked).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, REPO, until } from './harness.mjs';

const T = { timeout: 30000 };
const BIN = process.env.EPWS_BIN || path.join(REPO, 'build/release/epws');
let dir, server, browser, base;

function makeCert() {
  dir = mkdtempSync(path.join(os.tmpdir(), 'epws-e2e-tls-'));
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  // The SPKI pin Chromium wants: base64 of the SHA-256 of the DER public key.
  const pub = execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return { cert, key, spki };
}

function startTls(cert, key) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--port', 'off', '--tls-port', '0', '--tls-cert', cert, '--tls-key', key,
      '--web-root', path.join(REPO, 'web'), '--threads', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`epws did not start: ${err}`)); }, 10000);
    proc.stderr.on('data', (d) => { err = (err + d).slice(-8000); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`epws exited ${code}: ${err}`)); });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^epws: listening with TLS on (\S+):(\d+)\r?\n/);
      if (m) { clearTimeout(timer); resolve({ proc, port: Number(m[2]) }); }
    });
  });
}

before(async () => {
  const { cert, key, spki } = makeCert();
  server = await startTls(cert, key);
  base = `https://localhost:${server.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spki}`],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.proc.kill('SIGTERM');
    await new Promise((r) => (server.proc.exitCode !== null ? r() : server.proc.once('exit', r)));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/`, { timeout: 10000 });
  await page.fill('#name', name);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#status[data-status="open"]', { timeout: 10000 });
  return { context, page };
}

test('two browsers chat over https:// and wss://', T, async () => {
  const a = await open('alice'), b = await open('bob');
  try {
    assert.equal(await a.page.evaluate(() => location.protocol), 'https:');
    await a.page.fill('#text', 'sealed in TLS 🔒');
    await a.page.press('#text', 'Enter');
    const texts = (p) => p.$$eval('#messages .msg .text', (els) => els.map((e) => e.textContent));
    await until(async () => (await texts(b.page)).includes('sealed in TLS 🔒'), 'the message at bob');
    await b.page.fill('#text', 'received');
    await b.page.press('#text', 'Enter');
    await until(async () => (await texts(a.page)).includes('received'), 'the reply at alice');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('/inspect over wss:// shows frames and the server\'s view', T, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${base}/inspect?username=inspector`);
    await page.waitForSelector('#status[data-status="open"]', { timeout: 10000 });
    await page.waitForSelector('#frames tr.in td.data:text("welcome")', { timeout: 5000 });
    await page.click('#send button[type=submit]');
    await page.waitForSelector('#frames tr.out td.data:text("hello")', { timeout: 5000 });
    await page.waitForSelector('#server-view dd[data-key="deflate mode"]', { timeout: 5000 });
    assert.match(await page.textContent('#client-view dd[data-key="extensions"]'), /permessage-deflate/);
  } finally {
    await context.close();
  }
});
