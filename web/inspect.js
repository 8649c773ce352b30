// web/inspect.js: the /inspect page: a live frame inspector for one /chat connection of its own,
// and the server's view of it from GET /api/connections. Text only (textContent), never HTML.
import { ChatClient } from './chat-client.js';

const $ = (id) => document.getElementById(id);
let client = null;
let sentBytes = 0, recvBytes = 0, sentCount = 0, recvCount = 0;

function kv(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
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
    ['extensions', client.extensions() || '(none)'],
    ['sent', `${sentCount} messages, ${sentBytes} bytes`],
    ['received', `${recvCount} messages, ${recvBytes} bytes`],
    ['ping RTT', client.lastRttMs == null ? '—' : `${client.lastRttMs.toFixed(1)} ms`],
  ]);
  const s = $('status');
  s.dataset.status = client.state.status;
  s.textContent = client.state.status === 'reconnecting'
    ? `reconnecting in ${Math.ceil(client.retryInMs() / 1000)} s` : client.state.status;
}

async function pollServer() {
  if (!client || !client.user) return;
  try {
    const r = await fetch(`/api/connections?user=${encodeURIComponent(client.user)}`, { cache: 'no-store' });
    const v = await r.json();
    const mine = v.connections[0];
    const pairs = [['answered by loop', `${v.loop} of ${v.loops.length}`],
      ['deflate mode', `${v.config.deflate}, level ${v.config.deflate_level}, threshold ${v.config.deflate_threshold} B`]];
    if (mine) {
      const d = mine.permessage_deflate;
      pairs.push(['negotiated', d ? `permessage-deflate; server_max_window_bits=${d.server_max_window_bits}; ` +
        `client_max_window_bits=${d.client_max_window_bits}` +
        (d.server_no_context_takeover ? '; server_no_context_takeover' : '') +
        (d.client_no_context_takeover ? '; client_no_context_takeover' : '') : 'none']);
      pairs.push(['rooms', String(mine.rooms)], ['queued at server', `${mine.queued_bytes} bytes`]);
    } else {
      pairs.push(['negotiated', 'this connection lives on another loop; the figures below are per loop']);
    }
    for (const l of v.loops) {
      pairs.push([`loop ${l.loop}`, `${l.websockets} open, ${l.messages_in} in / ${l.messages_out} out, ` +
        `compressed to ${(l.deflate_ratio * 100).toFixed(0)}% (${l.deflate_in_bytes} → ${l.deflate_out_bytes} B)`]);
    }
    pairs.push(['server ping interval', `${v.config.ping_interval_ms / 1000} s`]);
    kv($('server-view'), pairs);
  } catch (e) {
    kv($('server-view'), [['error', String(e)]]);
  }
}

$('name').value = new URLSearchParams(location.search).get('username') ||
  `inspector-${Math.random().toString(36).slice(2, 6)}`;
$('connect').addEventListener('submit', (e) => {
  e.preventDefault();
  if (client) client.close();
  client = new ChatClient({ username: $('name').value.trim() });
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
setInterval(pollServer, 2000);
setInterval(renderClient, 500);
$('connect').requestSubmit();
