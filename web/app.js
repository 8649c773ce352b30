// web/app.js: the chat page over ChatClient. Every piece of user text goes into the page with
// textContent, never innerHTML: a message "<img src=x onerror=...>" shows as that text.
import { ChatClient } from './chat-client.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// Conversations: "room:NAME" or "dm:USER".
const convs = new Map();  // key -> { kind, name, items: [], unread: 0 }
const presence = new Map();  // room -> Set of users
let current = 'room:lobby';
let client = null;

function conv(key) {
  if (!convs.has(key)) {
    const [kind, ...rest] = key.split(':');
    convs.set(key, { kind, name: rest.join(':'), items: [], unread: 0 });
  }
  return convs.get(key);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function timeOf(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// ---- rendering ------------------------------------------------------------------------------

function renderItem(item) {
  if (item.notice) return el('li', 'notice', item.notice);
  const li = el('li', 'msg' + (item.from === client.user ? ' mine' : ''));
  if (item.seq) li.dataset.seq = item.seq;
  const meta = el('div', 'meta');
  meta.append(el('span', 'from', item.from));
  const t = el('time', 'time', timeOf(item.ts));
  t.dateTime = new Date(item.ts).toISOString();
  meta.append(t);
  li.append(meta, el('div', 'text', item.text));
  return li;
}

function renderMessages() {
  const c = conv(current);
  const list = $('messages');
  list.replaceChildren(...c.items.map(renderItem));
  list.scrollTop = list.scrollHeight;
  $('title').textContent = c.kind === 'room' ? `#${c.name}` : `@${c.name}`;
  $('text').placeholder = `Message ${$('title').textContent} (Enter to send, Shift+Enter for a new line)`;
}

function convButton(key, label) {
  const c = conv(key);
  const b = el('button');
  b.type = 'button';
  b.dataset.key = key;
  b.append(el('span', 'name', label));
  if (c.unread) b.append(el('span', 'unread', String(c.unread)));
  if (key === current) b.setAttribute('aria-current', 'true');
  b.addEventListener('click', () => select(key));
  const li = el('li');
  li.append(b);
  return li;
}

function renderLists() {
  const rooms = [...convs.keys()].filter((k) => k.startsWith('room:'));
  $('rooms').replaceChildren(...rooms.map((k) => convButton(k, `#${conv(k).name}`)));
  const dms = [...convs.keys()].filter((k) => k.startsWith('dm:'));
  $('dms').replaceChildren(...dms.map((k) => convButton(k, `@${conv(k).name}`)));
  const c = conv(current);
  if (c.kind === 'room') {
    $('presence-room').textContent = `in #${c.name}`;
    const users = [...(presence.get(c.name) || [])].sort();
    $('presence').replaceChildren(...users.map((u) => {
      const li = el('li', 'person');
      const b = el('button', null, u === client.user ? `${u} (you)` : u);
      b.type = 'button';
      b.title = `Message ${u}`;
      b.addEventListener('click', () => { if (u !== client.user) select(`dm:${u}`); });
      li.append(b);
      return li;
    }));
  }
}

function add(key, item) {
  const c = conv(key);
  c.items.push(item);
  if (c.items.length > 2000) c.items.shift();
  if (key !== current) c.unread += 1;
  if (key === current) {
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    list.append(renderItem(item));
    if (atBottom || item.from === client.user) list.scrollTop = list.scrollHeight;
  }
  renderLists();
}

function select(key) {
  current = key;
  const c = conv(key);
  c.unread = 0;
  if (c.kind === 'room' && !client.rooms.has(c.name)) client.join(c.name);
  renderMessages();
  renderLists();
  $('sidebar').classList.remove('open');
  $('menu').setAttribute('aria-expanded', 'false');
  $('text').focus();
}

// ---- status ---------------------------------------------------------------------------------

function renderStatus() {
  const s = client.state;
  const st = $('status');
  st.dataset.status = s.status;
  if (s.status === 'open') st.textContent = 'connected';
  else if (s.status === 'connecting') st.textContent = 'connecting…';
  else if (s.status === 'reconnecting') st.textContent = `reconnecting in ${Math.ceil(client.retryInMs() / 1000)} s`;
  else if (s.status === 'closed') st.textContent = `disconnected: ${s.reason}`;
  st.title = s.reason || '';
  const q = client.queuedCount();
  $('queued').hidden = q === 0;
  $('queued').textContent = `${q} message${q === 1 ? '' : 's'} waiting to be sent`;
}

// ---- events from the server ----------------------------------------------------------------

function onEvent(m) {
  switch (m.type) {
    case 'welcome':
      $('me').textContent = `signed in as ${m.user}`;
      for (const r of m.rooms) conv(`room:${r}`);
      renderLists();
      break;
    case 'message':
      add(`room:${m.room}`, m);
      break;
    case 'dm': {
      const other = m.from === client.user ? m.to : m.from;
      add(`dm:${other}`, m);
      break;
    }
    case 'presence':
      presence.set(m.room, new Set(m.users));
      conv(`room:${m.room}`);
      renderLists();
      break;
    case 'join':
    case 'leave': {
      const set = presence.get(m.room) || new Set();
      if (m.type === 'join') set.add(m.user); else set.delete(m.user);
      presence.set(m.room, set);
      renderLists();
      break;
    }
    case 'gap':
      add(`room:${m.room}`, { notice: `messages ${m.from}–${m.to} are not available (${m.reason})` });
      break;
    case 'rooms':
      $('all-rooms').replaceChildren(...m.rooms.map((r) => {
        const li = el('li');
        const b = el('button', null, `#${r.name} (${r.members})`);
        b.type = 'button';
        b.addEventListener('click', () => select(`room:${r.name}`));
        li.append(b);
        return li;
      }));
      break;
    case 'error':
      add(current, { notice: `error: ${m.code}: ${m.reason}` });
      break;
    default:
      break;
  }
}

// ---- start ----------------------------------------------------------------------------------

function start(username, token) {
  const num = (k) => (params.has(k) ? Number(params.get(k)) : undefined);
  const opts = { username, token };
  // For tests and demos: ?pingMs=2000&pongTimeoutMs=1000&backoffMs=200&backoffMaxMs=2000
  if (num('pingMs')) opts.pingIntervalMs = num('pingMs');
  if (num('pongTimeoutMs')) opts.pongTimeoutMs = num('pongTimeoutMs');
  if (num('backoffMs')) opts.backoffBaseMs = num('backoffMs');
  if (num('backoffMaxMs')) opts.backoffMaxMs = num('backoffMaxMs');
  client = new ChatClient(opts);
  window.chat = client;  // for the console and the tests
  client.addEventListener('message', (e) => onEvent(e.detail));
  client.addEventListener('reset', (e) => add(`room:${e.detail.room}`, { notice: 'the server restarted' }));
  client.addEventListener('state', () => {
    renderStatus();
    if (client.state.status === 'closed' && !client.user) {
      $('login-error').textContent = client.state.reason;
      $('chat-view').hidden = true;
      $('login-view').hidden = false;
    }
  });
  client.addEventListener('queued', renderStatus);
  setInterval(renderStatus, 250);
  $('login-view').hidden = true;
  $('chat-view').hidden = false;
  conv('room:lobby');
  client.connect();
  renderMessages();
  renderLists();
  renderStatus();
  $('text').focus();
}

function wire() {
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    if (!name) return;
    $('login-error').textContent = '';
    sessionStorage.setItem('epws-name', name);
    start(name, $('token').value.trim() || params.get('token') || '');
  });
  $('name').value = params.get('username') || sessionStorage.getItem('epws-name') || '';
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value;
    if (!text.trim()) return;
    const c = conv(current);
    if (c.kind === 'room') client.say(c.name, text); else client.dm(c.name, text);
    $('text').value = '';
  });
  $('text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {  // not while an IME composes
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const room = $('join-room').value.trim().replace(/^#/, '');
    if (!room) return;
    $('join-room').value = '';
    select(`room:${room}`);
  });
  $('dm-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const user = $('dm-user').value.trim().replace(/^@/, '');
    if (!user) return;
    $('dm-user').value = '';
    select(`dm:${user}`);
  });
  $('browse').addEventListener('click', () => client.listRooms());
  $('menu').addEventListener('click', () => {
    const open = $('sidebar').classList.toggle('open');
    $('menu').setAttribute('aria-expanded', String(open));
  });
  // Alt+ArrowUp / Alt+ArrowDown walk the conversations.
  document.addEventListener('keydown', (e) => {
    if (!client || !e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
    const keys = [...convs.keys()];
    const i = keys.indexOf(current) + (e.key === 'ArrowDown' ? 1 : -1);
    if (i >= 0 && i < keys.length) { e.preventDefault(); select(keys[i]); }
  });
  document.addEventListener('visibilitychange', () => renderLists());
}

wire();
