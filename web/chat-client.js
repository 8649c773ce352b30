// web/chat-client.js: a framework-free ES module that speaks the epws chat protocol
// (docs/chat-protocol.md) and keeps the link alive. No build step; import it from any page,
// Vue or React app:
//
//   import { ChatClient } from '/chat-client.js';
//   const chat = new ChatClient({ username: 'alice' });
//   chat.addEventListener('state', () => console.log(chat.state));
//   chat.addEventListener('message', (e) => console.log(e.detail));  // every server event
//   chat.connect();
//   chat.say('lobby', 'hi');
//
// What it does for you (docs/client.md):
//  - application ping every 25 s; no pong within 10 s: the connection is dead;
//  - reconnect with exponential backoff and full jitter (0.5 s doubling up to 30 s, reset once a
//    connection stayed open 10 s), and at once when the browser comes back online;
//  - before every (re)connect, GET /api/whoami checks the identity: a browser sees a refused
//    upgrade only as close 1006, so 401 there means "do not retry" (state 'closed');
//  - says and DMs made while not open are queued and sent after the reconnect, paced under the
//    server's rate limit;
//  - every joined room is rejoined with `since` its last sequence number; live messages that
//    race the replay are held until the history arrives, and every message is delivered once,
//    in sequence order. A changed server instance (a restart) resets the sequence numbers;
//  - the rooms are the ones you chose: after the first welcome (or from the start, given
//    `rooms`), a room the server puts the connection in (lobby) that you left is left again;
//  - a page that reloads resumes where it was: pass the `rooms` marks (`chat.marks()`) and
//    `instance` (`chat.instance`) it saved, and nothing is missed or delivered twice.

const DEFAULTS = {
  pingIntervalMs: 25000,
  pongTimeoutMs: 10000,
  backoffBaseMs: 500,
  backoffMaxMs: 30000,
  stableMs: 10000,
  whoamiTimeoutMs: 5000,
  maxQueued: 500,
  // The server allows bursts of 20 and 5 messages a second; stay under it.
  rateBurst: 15,
  ratePerSecond: 4,
};

// Close codes after which retrying cannot help: our own close, data the server cannot accept
// (a client bug that would repeat), and application codes for refused identity.
const NO_RETRY_CODES = new Set([1000, 1002, 1003, 1007, 4401, 4403]);

export class ChatClient extends EventTarget {
  // options: username, token, url (ws URL of /chat; default: this page's origin),
  // apiBase (http origin for /api; default: this page's), the DEFAULTS above, and to resume a
  // session: rooms ({room: last seq seen}, from marks()) and instance (the server instance
  // those seqs belong to, from `instance`).
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    const loc = globalThis.location;
    const wsBase = loc ? loc.origin.replace(/^http/, 'ws') : 'ws://127.0.0.1:8080';
    this.url = this.options.url || `${wsBase}/chat`;
    this.apiBase = this.options.apiBase || (loc ? loc.origin : 'http://127.0.0.1:8080');
    this.username = options.username || '';
    this.token = options.token || '';
    this.user = null;                // the server's name for us, from welcome
    this.connectionId = null;        // the server's id for this connection, from welcome
    this.rooms = new Map();          // room -> { lastSeq, syncing, held: [] }
    // Given rooms, the set is ours from the start; else the first welcome's rooms are adopted.
    this._roomsChosen = options.rooms !== undefined && options.rooms !== null;
    for (const [room, seq] of Object.entries(options.rooms || {})) {
      this.rooms.set(room, { lastSeq: Number.isSafeInteger(seq) && seq > 0 ? seq : 0, syncing: false, held: [] });
    }
    this.queue = [];                 // {type,...} objects waiting for an open connection
    this.state = { status: 'idle', attempt: 0, retryAt: 0, reason: '' };
    this.lastRttMs = null;
    this.ws = null;
    this.instance = options.instance || null;  // the server instance of the seqs, from whoami
    this._nextId = 1;
    this._timers = {};
    this._tokens = this.options.rateBurst;
    this._refilled = Date.now();
    this._stopped = true;
    this._onOnline = () => this._retryNow('online');
    this._onOffline = () => this._ping();  // test the link now instead of in 25 s
  }

  // ---- public API ---------------------------------------------------------------------------

  connect() {
    this._stopped = false;
    if (globalThis.addEventListener) {
      globalThis.addEventListener('online', this._onOnline);
      globalThis.addEventListener('offline', this._onOffline);
    }
    this._attempt();
  }

  // Closes for good (no reconnect).
  close() {
    this._stopped = true;
    if (globalThis.removeEventListener) {
      globalThis.removeEventListener('online', this._onOnline);
      globalThis.removeEventListener('offline', this._onOffline);
    }
    this._clearTimers();
    if (this.ws) {
      this._detach(this.ws);
      this.ws.close(1000, 'bye');
      this.ws = null;
    }
    this._setState('closed', { reason: 'closed by the page' });
  }

  join(room) {
    if (!this.rooms.has(room)) this.rooms.set(room, { lastSeq: 0, syncing: false, held: [] });
    const r = this.rooms.get(room);
    if (this.isOpen()) {
      r.syncing = true;
      this._send({ type: 'join', room, since: r.lastSeq, epoch: r.epoch, id: this._id() });
    }
  }

  leave(room) {
    this.rooms.delete(room);
    if (this.isOpen()) this._send({ type: 'leave', room, id: this._id() });
  }

  say(room, text) { this._enqueue({ type: 'say', room, text }); }
  dm(to, text) { this._enqueue({ type: 'dm', to, text }); }
  who(room) { if (this.isOpen()) this._send({ type: 'who', room, id: this._id() }); }
  listRooms() { if (this.isOpen()) this._send({ type: 'rooms', id: this._id() }); }
  history(room, from, to, limit) {
    if (!this.isOpen()) return;
    const m = { type: 'history', room, from, id: this._id() };
    if (to !== undefined) m.to = to;
    if (limit !== undefined) m.limit = limit;
    this._send(m);
  }

  // Sends a ping now (the next one follows pingIntervalMs after its pong); see lastRttMs.
  ping() { this._ping(); }
  // The negotiated extensions of the open connection, as the browser reports them.
  extensions() { return this.ws ? this.ws.extensions : ''; }
  // Sends one raw text frame (the /inspect page); false when not open.
  sendRaw(text) {
    if (!this.isOpen()) return false;
    this.ws.send(text);
    this._emit('frame', { direction: 'out', data: text, bytes: byteLength(text) });
    return true;
  }

  // {room: the last seq delivered} for every joined room: what a reloading page saves.
  marks() {
    const m = Object.create(null);  // a room may be called __proto__
    for (const [room, r] of this.rooms) m[room] = r.lastSeq;
    return m;
  }

  isOpen() { return this.state.status === 'open'; }
  queuedCount() { return this.queue.length; }
  // Milliseconds until the next attempt while reconnecting, else 0.
  retryInMs() { return Math.max(0, this.state.retryAt - Date.now()); }

  // ---- connecting -------------------------------------------------------------------------

  async _attempt() {
    if (this._stopped) return;
    this._clearTimer('retry');
    this._setState('connecting');
    const who = await this._whoami();
    if (this._stopped) return;
    if (who.refused) {
      this._stopped = true;
      this._setState('closed', { reason: who.reason || 'identity refused' });
      return;
    }
    if (who.ok && who.instance) {
      if (this.instance && this.instance !== who.instance) this._serverRestarted();
      this.instance = who.instance;
    }
    if (!who.ok) return this._scheduleRetry(who.reason || 'server unreachable');
    const q = new URLSearchParams();
    if (this.username) q.set('username', this.username);
    if (this.token) q.set('token', this.token);
    let ws;
    try {
      ws = new WebSocket(`${this.url}?${q}`);
    } catch (e) {
      this._stopped = true;
      this._setState('closed', { reason: `bad URL: ${e.message}` });
      return;
    }
    this.ws = ws;
    ws.onopen = () => this._opened(ws);
    ws.onmessage = (ev) => this._received(ws, ev.data);
    ws.onclose = (ev) => this._lost(ws, ev.code, ev.reason || `close ${ev.code}`);
    ws.onerror = () => {};  // a close event always follows
  }

  // { ok, refused, reason, instance }: refused only on a definite 401 from the server.
  async _whoami() {
    const q = new URLSearchParams();
    if (this.username) q.set('username', this.username);
    if (this.token) q.set('token', this.token);
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), this.options.whoamiTimeoutMs);
    try {
      const r = await fetch(`${this.apiBase}/api/whoami?${q}`, { cache: 'no-store', signal: ctl.signal });
      const body = await r.json().catch(() => ({}));
      if (r.status === 401) return { refused: true, reason: body.reason || body.error || 'unauthorized' };
      if (!r.ok) return { ok: false, reason: `whoami: HTTP ${r.status}` };
      return { ok: true, instance: body.instance };
    } catch (e) {
      return { ok: false, reason: 'server unreachable' };
    } finally {
      clearTimeout(t);
    }
  }

  _opened(ws) {
    if (ws !== this.ws) return;
    this._setState('open', { reason: '' });
    this._armTimer('ping', this.options.pingIntervalMs, () => this._ping());
    // Reset the backoff only once the connection proved stable.
    this._armTimer('stable', this.options.stableMs, () => { this.state.attempt = 0; });
  }

  _lost(ws, code, reason) {
    if (ws !== this.ws) return;
    this._detach(ws);
    this.ws = null;
    this._clearTimer('ping');
    this._clearTimer('pong');
    this._clearTimer('stable');
    this._clearTimer('flush');
    for (const r of this.rooms.values()) { r.syncing = false; r.held = []; }
    if (this._stopped) return;
    if (NO_RETRY_CODES.has(code)) {
      this._stopped = true;
      this._setState('closed', { reason, code });
      return;
    }
    this._scheduleRetry(reason);
  }

  _detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  _scheduleRetry(reason) {
    const o = this.options;
    const cap = Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** this.state.attempt);
    const delay = Math.random() * cap;  // full jitter: spreads a crowd reconnecting at once
    this.state.attempt += 1;
    this._setState('reconnecting', { reason, retryAt: Date.now() + delay });
    this._armTimer('retry', delay, () => this._attempt());
  }

  _retryNow(why) {
    if (this._stopped || this.state.status !== 'reconnecting') return;
    this.state.attempt = 0;
    this._clearTimer('retry');
    this._attempt(why);
  }

  // Declares the connection dead (no pong): closes it without waiting for TCP to notice.
  _dead(why) {
    const ws = this.ws;
    if (!ws) return;
    this._lost(ws, 1006, why);
    try { ws.close(4000, why); } catch (e) { /* already closing */ }
  }

  _serverRestarted() {
    for (const [room, r] of this.rooms) {
      r.lastSeq = 0;
      this._emit('reset', { type: 'reset', room, reason: 'server_restart' });
    }
  }

  // ---- keep-alive ---------------------------------------------------------------------------

  _ping() {
    if (!this.isOpen() || this._timers.pong) return;
    const id = `ping-${this._id()}`;
    this._pingId = id;
    this._pingSent = performance.now();
    this._send({ type: 'ping', id });
    this._armTimer('pong', this.options.pongTimeoutMs, () => this._dead('no pong within ' +
      `${this.options.pongTimeoutMs / 1000} s`));
  }

  _pong(m) {
    if (m.id !== this._pingId) return;
    this.lastRttMs = performance.now() - this._pingSent;
    this._clearTimer('pong');
    this._armTimer('ping', this.options.pingIntervalMs, () => this._ping());
    this._emit('rtt', { rttMs: this.lastRttMs });
  }

  // ---- receiving ----------------------------------------------------------------------------

  _received(ws, data) {
    if (ws !== this.ws) return;
    this._emit('frame', { direction: 'in', data, bytes: byteLength(data) });
    let m;
    try { m = JSON.parse(data); } catch (e) { return; }
    switch (m.type) {
      case 'welcome': return this._welcome(m);
      case 'pong': return this._pong(m);
      case 'message': return this._roomMessage(m);
      case 'history': return this._history(m);
      case 'presence': {
        // The room's incarnation: sent back with since, so a room made anew is noticed.
        const r = this.rooms.get(m.room);
        if (r && Number.isSafeInteger(m.epoch)) r.epoch = m.epoch;
        return this._emit('message', m);
      }
      case 'gap': {
        const r = this.rooms.get(m.room);
        if (r && m.reason === 'expired') {
          // The room we knew expired; this one numbers from 1 again, replayed next.
          r.lastSeq = 0;
          r.epoch = m.epoch;
        } else if (r && m.to > r.lastSeq) {
          r.lastSeq = m.to;  // those seqs will not come
        }
        return this._emit('message', m);
      }
      default:
        return this._emit('message', m);
    }
  }

  _welcome(m) {
    this.user = m.user;
    // For GET /api/connections?id= (the /inspect page); a new one on every reconnect.
    this.connectionId = m.connection_id ?? null;
    // The server put us in its rooms (lobby): adopted the first time, unless the caller chose
    // the rooms; after that a room we left is left again.
    for (const room of Array.isArray(m.rooms) ? m.rooms : []) {
      if (typeof room !== 'string' || this.rooms.has(room)) continue;
      if (this._roomsChosen) this._send({ type: 'leave', room, id: this._id() });
      else this.rooms.set(room, { lastSeq: 0, syncing: false, held: [] });
    }
    this._roomsChosen = true;
    this._emit('message', m);
    // Rejoin every room we have, with since.
    for (const [room, r] of this.rooms) {
      r.syncing = true;
      r.held = [];
      this._send({ type: 'join', room, since: r.lastSeq, epoch: r.epoch, id: this._id() });
    }
    this._flush();
  }

  _roomMessage(m) {
    const r = this.rooms.get(m.room);
    if (!r) return;
    if (r.syncing) { r.held.push(m); return; }  // wait for the replay to come first
    this._deliver(r, m);
  }

  _history(m) {
    const r = this.rooms.get(m.room);
    if (!r) return this._emit('message', m);
    const all = [...m.messages, ...r.held].sort((a, b) => a.seq - b.seq);
    r.syncing = false;
    r.held = [];
    for (const x of all) this._deliver(r, x);
    this._emit('synced', { type: 'synced', room: m.room, lastSeq: r.lastSeq });
  }

  _deliver(r, m) {
    if (m.seq <= r.lastSeq) return;  // already delivered: exactly once
    r.lastSeq = m.seq;
    this._emit('message', m);
  }

  // ---- sending ------------------------------------------------------------------------------

  _enqueue(m) {
    if (this.queue.length >= this.options.maxQueued) {
      this._emit('dropped', { message: m, reason: 'queue full' });
      return;
    }
    this.queue.push(m);
    this._emit('queued', { count: this.queue.length });
    this._flush();
  }

  // Sends queued messages while open and under the client-side rate.
  _flush() {
    if (!this.isOpen()) return;
    const o = this.options;
    while (this.queue.length) {
      const now = Date.now();
      this._tokens = Math.min(o.rateBurst, this._tokens + ((now - this._refilled) / 1000) * o.ratePerSecond);
      this._refilled = now;
      if (this._tokens < 1) {
        if (!this._timers.flush) this._armTimer('flush', 1000 / o.ratePerSecond, () => this._flush());
        break;
      }
      this._tokens -= 1;
      const m = this.queue.shift();
      this._send({ ...m, id: this._id() });
    }
    this._emit('queued', { count: this.queue.length });
  }

  _send(m) {
    const data = JSON.stringify(m);
    this.ws.send(data);
    this._emit('frame', { direction: 'out', data, bytes: byteLength(data) });
  }

  // ---- plumbing -----------------------------------------------------------------------------

  _id() { return this._nextId++; }

  _setState(status, extra = {}) {
    this.state = { ...this.state, retryAt: 0, ...extra, status };
    this._emit('state', { ...this.state });
  }

  _emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail })); }

  _armTimer(name, ms, fn) {
    this._clearTimer(name);
    this._timers[name] = setTimeout(() => { delete this._timers[name]; fn(); }, ms);
  }

  _clearTimer(name) {
    if (this._timers[name]) { clearTimeout(this._timers[name]); delete this._timers[name]; }
  }

  _clearTimers() { for (const n of Object.keys(this._timers)) this._clearTimer(n); }
}

export function byteLength(s) {
  return typeof s === 'string' ? new TextEncoder().encode(s).length : (s.byteLength ?? s.size ?? 0);
}
