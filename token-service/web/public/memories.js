// The room's memories panel: what the character remembers about you from this room, to
// correct or delete, and whether it remembers at all. Everything goes through
// /api/chat-rooms/:id/memories and PATCH /api/chat-rooms/:id.
import { api } from './auth.js';

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
  const status = document.createElement('p');
  status.className = 'muted';
  status.setAttribute('role', 'status');
  panel.replaceChildren(summary, toggle, list, status);

  const reload = () => load(room, list, status).catch((error) => say(status, error));
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

async function load(room, list, status) {
  const memories = await (await api(`/api/chat-rooms/${room.id}/memories`)).json();
  list.replaceChildren(...memories.map((memory) => item(room, memory, status)));
  status.textContent = memories.length === 0 ? 'Nothing remembered yet.' : '';
}

/** One memory: its text, editable in place, with save and delete. */
function item(room, memory, status) {
  const li = document.createElement('li');
  const text = document.createElement('input');
  text.value = memory.text;
  text.maxLength = 500;
  text.setAttribute('aria-label', 'Memory');
  const save = button('Save', async () => {
    const body = JSON.stringify({ text: text.value });
    await api(url(room, memory), { method: 'PATCH', headers: JSON_HEADERS, body });
    status.textContent = 'Saved.';
  });
  const forget = button('Delete', async () => {
    await api(url(room, memory), { method: 'DELETE' });
    li.remove();
    status.textContent = 'Forgotten.';
  });
  li.append(text, save, forget);
  li.dataset.memoryId = String(memory.id);
  function button(label, action) {
    const element = document.createElement('button');
    element.type = 'button';
    element.textContent = label;
    element.onclick = () => action().catch((error) => say(status, error));
    return element;
  }
  return li;
}

function url(room, memory) {
  return `/api/chat-rooms/${room.id}/memories/${memory.id}`;
}

function say(status, error) {
  status.textContent = error instanceof Error ? error.message : String(error);
}
