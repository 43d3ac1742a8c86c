// The room's memories panel: what the character remembers about you from this room, to
// correct or delete one by one or all at once, and whether it remembers at all. Everything
// goes through /api/chat-rooms/:id/memories and PATCH /api/chat-rooms/:id.
import { api } from './auth.js';
import { say, statusLine } from './dom.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Fills the panel for `room` (a ChatRoom from the API); reloads each time it is opened. */
export function showMemories(panel, room) {
  const summary = document.createElement('summary');
  summary.textContent = 'Memories';
  const toggle = document.createElement('label');
  const enabled = document.createElement('input');
  enabled.type = 'checkbox';
  enabled.id = 'memory-enabled';
  enabled.checked = room.memory_enabled;
  toggle.append(enabled, ' Remember what I say in this room');
  const list = document.createElement('ul');
  list.id = 'memory-list';
  const status = statusLine();
  const reload = () => load(room, list, status).catch((error) => say(status, error));
  // Memories are distilled after a conversation goes quiet, so new ones can appear while
  // the panel is open: the user asks for them.
  const refresh = button('Refresh', reload);
  refresh.id = 'memory-refresh';
  const forgetAll = button('Forget everything', () =>
    forgetEverything(room, list, status).catch((error) => say(status, error)),
  );
  forgetAll.id = 'memory-forget-all';
  const actions = document.createElement('p');
  actions.append(refresh, ' ', forgetAll);
  panel.replaceChildren(summary, toggle, actions, list, status);

  enabled.onchange = async () => {
    try {
      const body = JSON.stringify({ memory_enabled: enabled.checked });
      await api(`/api/chat-rooms/${room.id}`, { method: 'PATCH', headers: JSON_HEADERS, body });
      status.textContent = enabled.checked
        ? 'Memory on.'
        : 'Memory off: nothing new is remembered.';
    } catch (error) {
      enabled.checked = !enabled.checked;
      say(status, error);
    }
  };
  panel.ontoggle = () => panel.open && reload();
  if (panel.open) reload();
}

/**
 * Lists the room's memories. Loads can overlap (Refresh clicked twice, the panel reopened):
 * only the latest renders, so an older answer arriving last cannot replace the list under the
 * user's edit. The list is `aria-busy` until the latest has rendered.
 */
async function load(room, list, status) {
  const generation = String(Number(list.dataset.generation ?? 0) + 1);
  list.dataset.generation = generation;
  list.setAttribute('aria-busy', 'true');
  try {
    const memories = await (await api(`/api/chat-rooms/${room.id}/memories`)).json();
    if (list.dataset.generation !== generation) return;
    list.replaceChildren(...memories.map((memory) => item(room, memory, status)));
    status.textContent = memories.length === 0 ? 'Nothing remembered yet.' : '';
  } finally {
    if (list.dataset.generation === generation) list.removeAttribute('aria-busy');
  }
}

/**
 * Deletes every memory of the room, as listed now (the API deletes one at a time), after
 * asking: there is no undo.
 */
async function forgetEverything(room, list, status) {
  const memories = await (await api(`/api/chat-rooms/${room.id}/memories`)).json();
  if (memories.length === 0) return load(room, list, status);
  const question = `Forget all ${memories.length} things remembered in this room? This cannot be undone.`;
  if (!confirm(question)) return;
  for (const memory of memories) {
    await api(url(room, memory), { method: 'DELETE' }).catch((error) => {
      // Already gone (deleted elsewhere meanwhile) is what was asked for.
      if (error.status !== 404) throw error;
    });
  }
  await load(room, list, status);
  status.textContent = `Forgot ${memories.length} ${memories.length === 1 ? 'memory' : 'memories'}.`;
}

/** One memory: its text, editable in place, with save and delete. */
function item(room, memory, status) {
  const li = document.createElement('li');
  const text = document.createElement('input');
  text.value = memory.text;
  text.maxLength = 500;
  text.setAttribute('aria-label', 'Memory');
  const report = (action) => () => action().catch((error) => say(status, error));
  const save = button(
    'Save',
    report(async () => {
      const body = JSON.stringify({ text: text.value });
      await api(url(room, memory), { method: 'PATCH', headers: JSON_HEADERS, body });
      status.textContent = 'Saved.';
    }),
  );
  const forget = button(
    'Delete',
    report(async () => {
      await api(url(room, memory), { method: 'DELETE' });
      li.remove();
      status.textContent = 'Forgotten.';
    }),
  );
  forget.setAttribute('aria-label', `Delete: ${memory.text}`);
  li.append(text, save, forget);
  li.dataset.memoryId = String(memory.id);
  return li;
}

function button(label, onclick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.onclick = onclick;
  return element;
}

function url(room, memory) {
  return `/api/chat-rooms/${room.id}/memories/${memory.id}`;
}
