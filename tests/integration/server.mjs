// tests/integration/server.mjs: starts the real epws binary for the node suites (node:test + ws).
// Layer: tests/. Every wait here is an event with a deadline; nothing sleeps.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');

export function binaryPath() {
  const p = process.env.EPWS_BIN || path.join('build', 'release', 'epws');
  return path.isAbsolute(p) ? p : path.join(repo, p);
}

// Starts `epws --port 0 ...flags`; resolves to { proc, host, port, url(path), stop() } once the
// first stdout line "epws: listening on HOST:PORT" arrives (deadline 10 s).
export function startServer(flags = [], deadlineMs = 10000) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binaryPath(), ['--port', '0', ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`epws printed no listening line within ${deadlineMs} ms; stdout ` +
                       `${JSON.stringify(out)} stderr ${JSON.stringify(err.slice(-2000))}`));
    }, deadlineMs);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.stderr.on('data', (d) => { err = (err + d).slice(-8000); });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`epws exited (${code ?? sig}) before listening; stderr ${err.slice(-2000)}`));
    });
    proc.stdout.on('data', function onData(d) {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.stdout.resume(); // keep draining, whatever else may come
      const m = /^epws: listening on (\S+):(\d+)$/.exec(out.slice(0, nl));
      if (!m) {
        proc.kill('SIGKILL');
        reject(new Error(`unexpected first stdout line ${JSON.stringify(out.slice(0, nl))}`));
        return;
      }
      const [host, port] = [m[1], Number(m[2])];
      resolve({
        proc, host, port,
        url: (p = '/echo') => `ws://${host}:${port}${p}`,
        http: (p) => `http://${host}:${port}${p}`,
        stderr: () => err,
        stop: (graceMs = 8000) => stopProcess(proc, graceMs),
      });
    });
  });
}

// SIGTERM, then SIGKILL after graceMs; resolves to the exit code (or signal name).
export function stopProcess(proc, graceMs) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve(proc.exitCode ?? proc.signalCode);
      return;
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', (code, sig) => { clearTimeout(timer); resolve(code ?? sig); });
    proc.kill('SIGTERM');
  });
}

// Resolves with the first emission of `event` on `emitter`, rejects after ms.
export function once(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' within ${ms} ms`));
    }, ms);
    function on(...args) { clearTimeout(timer); resolve(args); }
    emitter.once(event, on);
  });
}
