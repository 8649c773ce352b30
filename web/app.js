// web/app.js: the chat page over ChatClient. Every piece of user text goes into the page with
// textContent, never innerHTML: a message "<img src=x onerror=...>" shows as that text.
// The tab's session (web/session.js) survives a reload: the page resumes it without a login.
import { ChatClient } from './chat-client.js';
import { clearSession, loadSession, saveSession } from './session.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// Conversations: "room:NAME" or "dm:USER", in the order they were opened.
const convs = new Map();  // key -> { kind, name, items: [], unread: 0 }
const presence = new Map();  // room -> Set of users
let current = null;  // the conversation shown, or null when none is open
let client = null;
let saveTimer = null;

function conv(key) {
  if (!convs.has(key)) {
    const [kind, ...rest] = key.split(':');
    convs.set(key, { kind, name: rest.join(':'), items: [], unread: 0 });
  }
  return convs.get(key);
}

// Our name: the server's once welcomed, the one we asked for before.
function me() {
  return client.user ?? client.username;
}

function labelOf(key) {
  const c = conv(key);
  return c.kind === 'room' ? `#${c.name}` : `@${c.name}`;
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

// ---- the tab's session ----------------------------------------------------------------------

// Saves soon (many messages in a burst cost one write); pagehide saves at once.
function scheduleSave() {
  if (saveTimer === null) saveTimer = setTimeout(save, 250);
}

// The marks (each room's last seq) and the messages shown are saved together, so a resumed
// page asks for exactly what it does not show.
function save() {
  clearTimeout(saveTimer);
  saveTimer = null;
  if (!client) return;
  saveSession({
    name: client.username,
    token: client.token,
    instance: client.instance,
    current,
    rooms: client.marks(),
    convs: [...convs].map(([key, c]) => ({ key, items: c.items, unread: c.unread })),
    queue: client.queue.map(({ type, room, to, text }) => ({ type, room, to, text })),
  });
}

// ---- rendering ------------------------------------------------------------------------------

function renderItem(item) {
  if (item.notice) return el('li', 'notice', item.notice);
  const li = el('li', 'msg' + (item.from === me() ? ' mine' : ''));
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
  const list = $('messages');
  const none = current === null;
  $('title').textContent = none ? 'epws chat' : labelOf(current);
  $('text').disabled = none;
  $('composer').querySelector('button').disabled = none;
  if (none) {
    list.replaceChildren(el('li', 'empty', 'No conversation open: join a room or message someone.'));
  } else {
    list.replaceChildren(...conv(current).items.map(renderItem));
    list.scrollTop = list.scrollHeight;
  }
  fitPlaceholder();
}

// The longest placeholder that fits the box: a cut hint is worse than none.
const measure = document.createElement('canvas').getContext('2d');
function fitPlaceholder() {
  const ta = $('text');
  const cs = getComputedStyle(ta);
  measure.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  const room = ta.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const label = current === null ? null : $('title').textContent;
  const options = label === null ? [] :
    [`Message ${label} (Enter to send, Shift+Enter for a new line)`, `Message ${label}`];
  ta.placeholder = options.find((t) => measure.measureText(t).width <= room) || 'Message';
}

// The text box is as tall as its lines, up to its max-height; past it, it scrolls.
function fitComposer() {
  const ta = $('text');
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  ta.style.height = 'auto';
  ta.style.height = `${ta.scrollHeight + ta.offsetHeight - ta.clientHeight}px`;
  ta.classList.toggle('full', ta.scrollHeight > ta.clientHeight + 1);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// One entry of the room or DM list: the conversation, its unread count, and × to leave it.
function convEntry(key) {
  const c = conv(key);
  const b = el('button', 'conv');
  b.type = 'button';
  b.dataset.key = key;
  b.append(el('span', 'name', labelOf(key)));
  if (c.unread) b.append(el('span', 'unread', String(c.unread)));
  if (key === current) b.setAttribute('aria-current', 'true');
  b.addEventListener('click', () => select(key));
  const x = el('button', 'close', '×');
  x.type = 'button';
  x.dataset.close = key;
  x.title = c.kind === 'room' ? `Leave ${labelOf(key)}` : `Close ${labelOf(key)}`;
  x.setAttribute('aria-label', x.title);
  x.addEventListener('click', () => closeConv(key));
  const li = el('li');
  li.append(b, x);
  return li;
}

function renderLists() {
  const keys = [...convs.keys()];
  $('rooms').replaceChildren(...keys.filter((k) => k.startsWith('room:')).map(convEntry));
  $('dms').replaceChildren(...keys.filter((k) => k.startsWith('dm:')).map(convEntry));
  const c = current === null ? null : conv(current);
  $('presence-section').hidden = !(c && c.kind === 'room');  // a DM has no "here now"
  if (c && c.kind === 'room') {
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
  } else {
    $('presence-room').textContent = '';
    $('presence').replaceChildren();
  }
  // On a phone the lists hide behind ☰: it carries the sum, and so does the tab's title.
  const total = [...convs.values()].reduce((n, x) => n + x.unread, 0);
  $('menu-unread').hidden = total === 0;
  $('menu-unread').textContent = total > 99 ? '99+' : String(total);
  $('menu').setAttribute('aria-label', total ? `Rooms and people, ${total} unread` : 'Rooms and people');
  document.title = total ? `(${total}) epws chat` : 'epws chat';
}

function add(key, item) {
  const c = conv(key);
  c.items.push(item);
  if (c.items.length > 2000) c.items.shift();
  // Unread: what others wrote where you are not looking; not notices, not your own messages.
  if (key !== current && item.from !== undefined && item.from !== me()) c.unread += 1;
  if (key === current) {
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    list.append(renderItem(item));
    if (atBottom || item.from === me()) list.scrollTop = list.scrollHeight;
  }
  renderLists();
  scheduleSave();
}

// Shows key (null: none) without touching the sidebar or the focus.
function show(key) {
  current = key;
  if (key !== null) {
    const c = conv(key);
    c.unread = 0;
    if (c.kind === 'room' && !client.rooms.has(c.name)) client.join(c.name);
  }
  renderMessages();
  renderLists();
  scheduleSave();
}

function select(key) {
  show(key);
  $('sidebar').classList.remove('open');
  $('menu').setAttribute('aria-expanded', 'false');
  $('text').focus();
}

// Leaves a room (the server's leave) or closes a DM conversation (DMs have no membership; a new
// DM from that user opens it again). The sidebar stays as it is.
function closeConv(key) {
  const c = conv(key);
  if (c.kind === 'room') {
    client.leave(c.name);
    presence.delete(c.name);
  }
  const keys = [...convs.keys()];
  const i = keys.indexOf(key);
  convs.delete(key);
  if (current === key) show(keys[i + 1] ?? keys[i - 1] ?? null);
  else { renderLists(); scheduleSave(); }
  // The × that had the focus is gone: give it to the conversation shown, or the join box.
  (document.querySelector('button.conv[aria-current=true]') || $('join-room')).focus();
}

// ---- status ---------------------------------------------------------------------------------

function renderStatus() {
  if (!client) return;
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
  const inRoom = typeof m.room === 'string' && client.rooms.has(m.room);
  switch (m.type) {
    case 'welcome':
      $('me').textContent = `Signed in as ${m.user}`;
      for (const r of client.rooms.keys()) conv(`room:${r}`);
      renderLists();
      scheduleSave();
      break;
    case 'message':
      if (inRoom) add(`room:${m.room}`, m);
      break;
    case 'dm': {
      const other = m.from === client.user ? m.to : m.from;
      add(`dm:${other}`, m);
      break;
    }
    case 'presence':
      // Also sent for lobby after welcome, before the client leaves it again if you had.
      if (!inRoom) break;
      presence.set(m.room, new Set(m.users));
      conv(`room:${m.room}`);
      renderLists();
      break;
    case 'presence_change': {
      // One notice per room and server round: everyone who joined or left since the last.
      if (!inRoom) break;
      const set = presence.get(m.room) || new Set();
      for (const u of m.joined || []) set.add(u);
      for (const u of m.left || []) set.delete(u);
      presence.set(m.room, set);
      renderLists();
      break;
    }
    case 'gap':
      if (!inRoom) break;
      if (m.reason === 'expired') add(`room:${m.room}`, { notice: 'the room was empty for a while and was made anew; earlier messages are gone' });
      else add(`room:${m.room}`, { notice: `messages ${m.from}–${m.to} are not available (${m.reason})` });
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
      if (current !== null) add(current, { notice: `error: ${m.code}: ${m.reason}` });
      break;
    default:
      break;
  }
}

// ---- signing in and out ---------------------------------------------------------------------

function showLogin(error) {
  $('chat-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = error || '';
  $('name').focus();
}

// Starts the chat for session: a new one from the login form ({name, token}), or one loadSession
// returned, whose rooms are rejoined with since and whose conversations come back as they were.
function start(session) {
  convs.clear();
  presence.clear();
  $('all-rooms').replaceChildren();
  $('me').textContent = '';
  const resumed = session.rooms !== undefined;
  for (const c of session.convs || []) {
    conv(c.key).items = c.items;
    conv(c.key).unread = c.unread;
  }
  if (resumed) for (const r of Object.keys(session.rooms)) conv(`room:${r}`);
  else conv('room:lobby');  // the server puts every new connection there
  const keys = [...convs.keys()];
  current = keys.includes(session.current) ? session.current : (keys[0] ?? null);

  const num = (k) => (params.has(k) ? Number(params.get(k)) : undefined);
  const opts = { username: session.name, token: session.token || '' };
  if (resumed) { opts.rooms = session.rooms; opts.instance = session.instance; }
  // For tests and demos: ?pingMs=2000&pongTimeoutMs=1000&backoffMs=200&backoffMaxMs=2000
  if (num('pingMs')) opts.pingIntervalMs = num('pingMs');
  if (num('pongTimeoutMs')) opts.pongTimeoutMs = num('pongTimeoutMs');
  if (num('backoffMs')) opts.backoffBaseMs = num('backoffMs');
  if (num('backoffMaxMs')) opts.backoffMaxMs = num('backoffMaxMs');
  const c = new ChatClient(opts);
  client = c;
  window.chat = c;  // for the console and the tests
  c.addEventListener('message', (e) => { if (c === client) onEvent(e.detail); });
  c.addEventListener('reset', (e) => {
    if (c === client) add(`room:${e.detail.room}`, { notice: 'the server restarted' });
  });
  c.addEventListener('state', () => {
    if (c !== client) return;
    renderStatus();
    if (c.state.status === 'closed' && !c.user) {  // refused before any welcome: a bad name
      client = null;
      clearSession();
      showLogin(c.state.reason);
    }
  });
  c.addEventListener('queued', () => { if (c === client) { renderStatus(); scheduleSave(); } });
  for (const q of session.queue || []) {
    if (q.type === 'say') c.say(q.room, q.text); else c.dm(q.to, q.text);
  }
  $('name').value = session.name;
  $('login-view').hidden = true;
  $('chat-view').hidden = false;
  save();  // the name is kept for the tab from now on
  c.connect();
  renderMessages();
  renderLists();
  renderStatus();
  fitComposer();
  $('text').focus();
}

function signOut() {
  const c = client;
  client = null;
  clearSession();
  if (c) c.close();
  showLogin('');
}

function wire() {
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    if (!name) return;
    start({ name, token: $('token').value.trim() || params.get('token') || '' });
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value;
    if (!text.trim() || current === null) return;
    const c = conv(current);
    if (c.kind === 'room') client.say(c.name, text); else client.dm(c.name, text);
    $('text').value = '';
    fitComposer();
  });
  $('text').addEventListener('input', fitComposer);
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
  $('browse').addEventListener('click', () => client && client.listRooms());
  $('signout').addEventListener('click', signOut);
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
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save();
    else if (client) renderLists();
  });
  addEventListener('pagehide', save);
  addEventListener('resize', () => { if (client) { fitPlaceholder(); fitComposer(); } });
  setInterval(renderStatus, 250);

  const session = loadSession();
  if (session) {
    start(session);
  } else {
    $('name').value = params.get('username') || '';
    showLogin('');
  }
}

wire();
