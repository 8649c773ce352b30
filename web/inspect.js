// web/inspect.js: the /inspect page: a live frame inspector for one /chat connection of its own,
// and the server's view of it from GET /api/connections?id=. Text only (textContent), never HTML.
import { ChatClient } from './chat-client.js';
import { loadSession } from './session.js';

const $ = (id) => document.getElementById(id);
let client = null;
// The chat page's session in this tab: with a JWT secret, its token opens /chat and reads
// /api/connections, which shows a token's own connections only.
const session = loadSession();
const token = session ? session.token : '';
let sentBytes = 0, recvBytes = 0, sentCount = 0, recvCount = 0;

// Fills dl with [key, value] pairs; a value is text, or an array of parameters.
function kv(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    if (Array.isArray(v)) {
      // Parameters: each one whole on a line (style.css .param), lines break between them.
      v.forEach((part, i) => {
        if (i) dd.append(' ');
        const span = document.createElement('span');
        span.className = 'param';
        span.textContent = part;
        dd.append(span);
      });
    } else {
      dd.textContent = v;
    }
    dd.dataset.key = k;
    return [dt, dd];
  }));
}

function addFrame(d) {
  const tr = document.createElement('tr');
  tr.className = d.direction;
  const cells = [new Date().toLocaleTimeString(), d.direction === 'out' ? '→' : '←', String(d.bytes), d.data];
  for (const [i, text] of cells.entries()) {
    const td = document.createElement('td');
    td.className = ['time', 'dir', 'bytes', 'data'][i];
    td.textContent = text;
    tr.append(td);
  }
  const body = $('frames');
  body.prepend(tr);
  while (body.children.length > 500) body.lastChild.remove();
  if (d.direction === 'out') { sentBytes += d.bytes; sentCount++; } else { recvBytes += d.bytes; recvCount++; }
  renderClient();
}

function renderClient() {
  if (!client) return;
  kv($('client-view'), [
    ['state', client.state.status],
    ['user', client.user || '—'],
    ['connection id', client.connectionId == null ? '—' : String(client.connectionId)],
    ['extensions', client.extensions() ? params(client.extensions()) : '(none)'],
    ['sent', `${sentCount} messages, ${sentBytes} bytes`],
    ['received', `${recvCount} messages, ${recvBytes} bytes`],
    ['ping RTT', client.lastRttMs == null ? '—' : `${client.lastRttMs.toFixed(1)} ms`],
  ]);
  const s = $('status');
  s.dataset.status = client.state.status;
  s.textContent = client.state.status === 'reconnecting'
    ? `reconnecting in ${Math.ceil(client.retryInMs() / 1000)} s` : client.state.status;
}

// "29% (492 → 141 B)": compressed size over original size, as the server counted them.
function ratio(r, original, compressed) {
  return r == null ? '— (nothing yet)' : `${Math.round(r * 100)}% (${original} → ${compressed} B)`;
}

// An extension header value as its parameters, each with its "; ": "a; b=1" -> ["a;", "b=1"].
function params(header) {
  const parts = header.split(/;\s*/);
  return parts.map((p, i) => (i < parts.length - 1 ? `${p};` : p));
}

function negotiated(d) {
  if (!d) return 'none';
  return params(`permessage-deflate; server_max_window_bits=${d.server_max_window_bits}; ` +
    `client_max_window_bits=${d.client_max_window_bits}` +
    (d.server_no_context_takeover ? '; server_no_context_takeover' : '') +
    (d.client_no_context_takeover ? '; client_no_context_takeover' : ''));
}

// The server's view of this page's own connection, from whichever loop answers the request
// (the connection lives on one loop; the server finds it on any).
async function pollServer() {
  if (!client || client.connectionId == null) return;
  const id = client.connectionId;
  try {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const r = await fetch(`/api/connections?id=${encodeURIComponent(id)}`, { cache: 'no-store', headers });
    const v = await r.json();
    if (r.status === 404) {
      kv($('server-view'), [['connection', `${id}: closed, the server no longer has it`]]);
      return;
    }
    if (!r.ok) throw new Error(v.reason || `HTTP ${r.status}`);
    const c = v.connection;
    const pairs = [
      ['connection', `${c.id} (${c.user}), on loop ${c.loop}; this answer from loop ${v.loop} of ${v.loops.length}`],
      ['negotiated', negotiated(c.permessage_deflate)],
      ['messages in / out', `${c.messages.in} / ${c.messages.out}`],
      ['payload bytes in / out', `${c.payload_bytes.in} / ${c.payload_bytes.out}`],
      ['wire bytes in / out', `${c.wire_bytes.in} / ${c.wire_bytes.out}`],
      ['compressed in', ratio(c.compression_ratio.in, c.payload_bytes.in, c.compressed_bytes.in)],
      ['compressed out', ratio(c.compression_ratio.out, c.payload_bytes.out, c.compressed_bytes.out)],
      ['ping RTT (server)', c.ping_rtt_us == null ? '— (no pong yet)' : `${(c.ping_rtt_us / 1000).toFixed(3)} ms`],
      ['server ping interval', `${v.config.ping_interval_ms / 1000} s`],
      ['deflate mode', `${v.config.deflate}, level ${v.config.deflate_level}, threshold ${v.config.deflate_threshold} B`],
    ];
    kv($('server-view'), pairs);
  } catch (e) {
    kv($('server-view'), [['error', String(e)]]);
  }
}

$('name').value = new URLSearchParams(location.search).get('username') || (session && session.name) ||
  `inspector-${Math.random().toString(36).slice(2, 6)}`;
$('connect').addEventListener('submit', (e) => {
  e.preventDefault();
  if (client) client.close();
  client = new ChatClient({ username: $('name').value.trim(), token });
  window.chat = client;
  client.addEventListener('frame', (ev) => addFrame(ev.detail));
  client.addEventListener('state', renderClient);
  client.addEventListener('rtt', renderClient);
  client.connect();
});
$('send').addEventListener('submit', (e) => {
  e.preventDefault();
  if (client) client.sendRaw($('raw').value);
});
$('ping').addEventListener('click', () => client && client.ping());
$('clear').addEventListener('click', () => $('frames').replaceChildren());
setInterval(pollServer, 1000);
setInterval(renderClient, 500);
$('connect').requestSubmit();
