// tests/e2e/harness.mjs: the real epws binary, a TCP proxy the tests can cut, and Debian's
// chromium driven headless by playwright-core (no browser download). Layer: tests/.
// Nothing sleeps to wait: every wait polls a condition against a deadline.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.EPWS_BIN || path.join(REPO, 'build/release/epws');
export const CHROMIUM = process.env.EPWS_CHROMIUM || '/usr/bin/chromium';
// The client the server serves; another checkout's web/ shows what these tests say about it.
const WEB_ROOT = process.env.EPWS_WEB_ROOT || path.join(REPO, 'web');

// Starts epws with flags on `port` (0: any); resolves once it printed its listening line.
export function startServer(flags = [], port = 0, deadlineMs = 10000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--port', String(port), '--web-root', WEB_ROOT, ...flags],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`epws did not start: ${err}`)); }, deadlineMs);
    proc.stderr.on('data', (d) => { err += d; if (err.length > 20000) err = err.slice(-10000); });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^epws: listening on (\S+):(\d+)\r?\n/);
      if (m) {
        clearTimeout(timer);
        resolve({
          proc, host: m[1], port: Number(m[2]),
          url: `http://${m[1]}:${m[2]}`,
          stderr: () => err,
          stop: () => stopProcess(proc),
        });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`epws exited ${code}: ${err}`)); });
  });
}

function stopProcess(proc, deadlineMs = 8000) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    const t = setTimeout(() => proc.kill('SIGKILL'), deadlineMs);
    proc.once('exit', (code) => { clearTimeout(t); resolve(code); });
    proc.kill('SIGTERM');
  });
}

// A TCP proxy in front of the server, so a test can cut one page's network while others
// keep talking: cut() resets every connection and refuses new ones until restore();
// freeze() makes the current connections silently drop everything (a dead link that TCP
// has not noticed), while new ones pass.
export async function startProxy(target) {
  const pairs = new Set();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return client.resetAndDestroy();
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream, frozen: false };
    pairs.add(pair);
    const forward = (from, to) => from.on('data', (d) => { if (!pair.frozen) to.write(d); });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    cut() { down = true; for (const p of pairs) { p.client.resetAndDestroy(); p.upstream.destroy(); } pairs.clear(); },
    restore() { down = false; },
    freeze() { for (const p of pairs) p.frozen = true; },
    close() { this.cut(); return new Promise((r) => server.close(r)); },
  };
}

// Chromium with the flags this closed machine needs (no background network, no QUIC).
// playwright-core gives every launch a fresh temporary --user-data-dir of its own (it refuses
// the flag in args) and removes it on close.
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Polls fn() until it returns a truthy value; throws naming `what` after deadlineMs.
export async function until(fn, what, deadlineMs = 10000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));  // a pause between polls, not a wait for an event
  }
}
