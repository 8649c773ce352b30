// web/session.js: the chat page's session for this tab, in sessionStorage, so that a reload
// resumes it: the name (and token), every open room with the last seq shown, every DM
// conversation, the messages shown (bounded), the unread counts and what waits to be sent.
// Nothing leaves the tab.

const KEY = 'epws-session';
// Messages kept per conversation; the page holds more, the tab's storage (about 5 MB) less.
const kStoredItems = 200;

// The saved session, or null. What comes back is checked field by field: a session written by
// an older page, or edited by hand, must not break this one.
export function loadSession() {
  let s;
  try {
    s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch (e) {
    return null;
  }
  if (!s || typeof s !== 'object' || typeof s.name !== 'string' || !s.name) return null;
  const rooms = Object.create(null);  // a room may be called __proto__
  for (const [room, seq] of Object.entries(s.rooms && typeof s.rooms === 'object' ? s.rooms : {})) {
    rooms[room] = Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
  }
  const convs = [];
  for (const c of Array.isArray(s.convs) ? s.convs : []) {
    if (!c || typeof c.key !== 'string' || !/^(room|dm):./.test(c.key)) continue;
    const items = (Array.isArray(c.items) ? c.items : []).filter(validItem);
    convs.push({ key: c.key, items, unread: Number.isSafeInteger(c.unread) && c.unread > 0 ? c.unread : 0 });
  }
  // Says and DMs typed while not connected, not sent yet: sent after the resumed connect.
  const queue = (Array.isArray(s.queue) ? s.queue : []).filter((q) => q && typeof q.text === 'string' &&
    ((q.type === 'say' && typeof q.room === 'string') || (q.type === 'dm' && typeof q.to === 'string')));
  return {
    name: s.name,
    token: typeof s.token === 'string' ? s.token : '',
    instance: typeof s.instance === 'string' ? s.instance : null,
    current: typeof s.current === 'string' ? s.current : null,
    rooms,
    convs,
    queue,
  };
}

function validItem(i) {
  if (!i || typeof i !== 'object') return false;
  if (typeof i.notice === 'string') return true;
  return typeof i.from === 'string' && typeof i.text === 'string' && Number.isFinite(i.ts);
}

// Saves session (the shape loadSession returns). When the storage is full, keeps fewer
// messages, then none: the rooms and their seqs matter more than the scrollback.
export function saveSession(session) {
  for (const keep of [kStoredItems, 20, 0]) {
    const s = { ...session, convs: session.convs.map((c) => ({ ...c, items: keep ? c.items.slice(-keep) : [] })) };
    try {
      sessionStorage.setItem(KEY, JSON.stringify(s));
      return true;
    } catch (e) {
      // QuotaExceededError: try again with less.
    }
  }
  return false;
}

export function clearSession() {
  try { sessionStorage.removeItem(KEY); } catch (e) { /* storage disabled: nothing saved */ }
}
