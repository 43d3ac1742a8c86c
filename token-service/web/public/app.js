// Parley's page: sign in, pick or create a character, then talk (direct WebRTC, or LiveKit
// when the server has it) or type (WebSocket chat), with captions, state and history.

import * as auth from './auth.js';
import { api } from './auth.js';
import { showEditor } from './character-editor.js';
import { openChat } from './chat-socket.js';
import { startDirectCall } from './direct-call.js';
import { setUpGallery } from './gallery.js';
import { showKnowledge } from './knowledge.js';
import { watchLevel } from './level.js';
import { startLiveKitCall } from './livekit-call.js';
import { showMemories } from './memories.js';
import { pictureOf, uploadPicture } from './pictures.js';
import { setUpVoicePicker } from './voices.js';

const $ = (id) => document.getElementById(id);
const state = { config: null, characters: [], character: null, room: null, call: null, chat: null };
const shownMessageIds = new Set();

async function main() {
  state.config = await auth.loadClientConfig();
  showSetupNotice(state.config.providers);
  $('dev-sign-in').hidden = !state.config.dev_sessions;
  $('supabase-sign-in').hidden = !state.config.supabase_url;
  if (await auth.resume(state.config).catch(() => false)) await enter();
  else $('sign-in').hidden = false;
}

/** Without an LLM nobody can answer: say so first, with the exact setting and the local way. */
function showSetupNotice(providers) {
  if (!providers || providers.llm.configured) return;
  $('setup-variable').textContent = providers.llm.variable;
  $('setup-alternative').textContent = providers.llm.alternative;
  $('setup-notice').hidden = false;
}

/** "1 document ready", or what still waits, from the character's document counts. */
function knowledgeLine(knowledge) {
  if (!knowledge) return '';
  const parts = [];
  if (knowledge.ready > 0) parts.push(`${knowledge.ready} ready`);
  if (knowledge.pending > 0) parts.push(`${knowledge.pending} waiting to be embedded`);
  if (knowledge.failed > 0) parts.push(`${knowledge.failed} failed`);
  return parts.length === 0 ? '' : `Knowledge documents: ${parts.join(', ')}`;
}

async function enter() {
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  const user = auth.currentUser();
  $('who').textContent = user.email ?? `local user ${user.id.slice(0, 8)}`;
  await loadCharacters();
  setUpGallery((character) => openRoom(character).catch(showRoomError));
  await setUpVoicePicker().catch(showRoomError);
}

async function loadCharacters() {
  state.characters = await (await api('/api/characters')).json();
  const list = $('character-list');
  list.replaceChildren(
    ...state.characters.map((character) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.append(pictureOf(character), character.name);
      button.dataset.characterId = character.id;
      button.setAttribute('aria-current', String(character.id === state.character?.id));
      button.onclick = () => openRoom(character).catch(showRoomError);
      const item = document.createElement('li');
      item.append(button);
      return item;
    }),
  );
}

async function openRoom(character) {
  await hangUp();
  setChat(null);
  state.character = character;
  state.room = await (
    await api('/api/chat-rooms', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ character_id: character.id }),
    })
  ).json();
  for (const button of $('character-list').querySelectorAll('button')) {
    button.setAttribute('aria-current', String(button.dataset.characterId === character.id));
  }
  $('room').hidden = false;
  showRoomHead(character);
  $('room-error').textContent = '';
  showState('offline');
  shownMessageIds.clear();
  $('history').replaceChildren();
  const page = await (await api(`/api/chat-rooms/${state.room.id}/messages?limit=50`)).json();
  for (const message of page.messages) addMessage(message.role, message.text, message.id);
  setChat(openChat(state.room.id, onChatFrame));
  showEditor($('character-edit'), character, characterSaved);
  showMemories($('memories'), state.room);
  showKnowledge($('knowledge'), character);
}

/**
 * Replaces the room's typed chat (closing the one before), or clears it while a room opens.
 * Send is off without one, so what is typed meanwhile stays in the box rather than going to a
 * closed chat or nowhere.
 */
function setChat(chat) {
  state.chat?.close();
  state.chat = chat;
  $('composer').querySelector('button[type=submit]').disabled = chat === null;
}

function showRoomHead(character) {
  $('room-title').textContent = character.name;
  $('room-avatar').replaceChildren(pictureOf(character));
  $('room-greeting').textContent = character.greeting ?? '';
  $('room-knowledge').textContent = knowledgeLine(character.knowledge);
}

/** The room's character was edited: the list and the room's head show it as it now is. */
async function characterSaved(saved) {
  await loadCharacters();
  state.character = state.characters.find((c) => c.id === saved.id) ?? saved;
  showRoomHead(state.character);
}

function addMessage(role, text, id) {
  if (id !== undefined) {
    if (shownMessageIds.has(id)) return;
    shownMessageIds.add(id);
  }
  const item = document.createElement('li');
  item.className = role;
  item.textContent = text;
  $('history').append(item);
  item.scrollIntoView({ block: 'end' });
}

function showCaption(role, text) {
  $(role === 'user' ? 'live-user' : 'live-character').textContent = text;
}

function showState(name) {
  $('agent-state').dataset.state = name;
  $('agent-state').textContent = name;
}

function onChatFrame(frame) {
  if (frame.type === 'delta') {
    const live = $('live-character');
    live.textContent =
      (live.dataset.clientId === frame.client_id ? live.textContent : '') + frame.text;
    live.dataset.clientId = frame.client_id;
  } else if (frame.type === 'message') {
    if (frame.role === 'character') showCaption('character', '');
    addMessage(frame.role, frame.text, frame.id);
  } else if (frame.type === 'error') {
    showRoomError(new Error(frame.message));
  }
}

/** Messages from the call's data channel (or the LiveKit equivalents). */
function onCallMessage(message) {
  if (message.type === 'state') showState(message.state);
  if (message.type === 'ended') showRoomError(new Error(message.message));
  if (message.type !== 'caption') return;
  if (message.final) {
    showCaption(message.role, '');
    addMessage(message.role, message.text);
  } else {
    showCaption(message.role, message.text);
  }
}

async function talk() {
  $('talk').disabled = true;
  $('room-error').textContent = '';
  const camera = $('use-camera').checked;
  const options = {
    camera,
    preview: $('preview'),
    events: {
      onMessage: onCallMessage,
      onLocalStream: (stream) => watchLevel(stream, $('mic-level')),
      onRemoteStream: (stream) => {
        $('remote-audio').srcObject = stream;
        watchLevel(stream, $('level'));
      },
      onEnded: (reason) => {
        callEnded();
        if (reason === 'dropped') {
          showRoomError(
            new Error(
              'The call dropped: the connection to the server was lost. Press Talk to call again.',
            ),
          );
        }
      },
    },
  };
  try {
    state.call = state.config.livekit_url
      ? await startLiveKitCall({ ...options, characterId: state.character.id })
      : await startDirectCall({ ...options, chatRoomId: state.room.id });
    $('preview').hidden = !camera;
    $('hang-up').hidden = false;
    $('talk').hidden = true;
  } catch (error) {
    $('talk').disabled = false;
    showRoomError(callError(error));
  }
}

/** What went wrong starting a call, in words a person can act on. */
function callError(error) {
  if (error?.name === 'NotAllowedError' || error?.name === 'SecurityError') {
    return new Error(
      'Microphone access was refused. Allow the microphone for this site in the browser, then press Talk again.',
    );
  }
  if (error?.name === 'NotFoundError' || error?.name === 'OverconstrainedError') {
    return new Error('No microphone was found. Connect one, then press Talk again.');
  }
  return error;
}

function callEnded() {
  state.call = null;
  showState('offline');
  showCaption('user', '');
  showCaption('character', '');
  $('preview').hidden = true;
  $('hang-up').hidden = true;
  $('talk').hidden = false;
  $('talk').disabled = false;
}

async function hangUp() {
  const call = state.call;
  if (call === null) return;
  await call.hangUp();
  callEnded();
}

function showRoomError(error) {
  $('room-error').textContent = error.message;
}

$('dev-sign-in').onclick = () =>
  auth.devSignIn().then(enter, (error) => ($('sign-in-error').textContent = error.message));

for (const signUp of [false, true]) {
  const handler = (event) => {
    event?.preventDefault();
    const form = $('supabase-sign-in');
    if (!form.reportValidity()) return;
    const { email, password } = Object.fromEntries(new FormData(form));
    auth
      .supabaseSignIn(state.config, email, password, { signUp })
      .then(enter, (error) => ($('sign-in-error').textContent = error.message));
  };
  if (signUp) $('sign-up').onclick = handler;
  else $('supabase-sign-in').onsubmit = handler;
}

$('sign-out').onclick = async () => {
  await hangUp();
  setChat(null);
  auth.signOut();
  location.reload();
};

$('new-character').onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  const fields = Object.fromEntries(new FormData(form));
  const body = {
    name: fields.name,
    instructions: fields.instructions,
    is_public: fields.is_public === 'on',
    language: fields.language,
  };
  if (fields.voice_id) body.voice_id = fields.voice_id;
  if (fields.greeting) body.greeting = fields.greeting;
  if (fields.description) body.description = fields.description;
  const picture = $('character-picture').files[0];
  try {
    const response = await api('/api/characters', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const character = await response.json();
    // The character exists either way: a refused picture is said, not a failed creation.
    const refused = picture ? await uploadPicture(character.id, picture).catch((e) => e) : null;
    form.reset();
    $('character-language').dispatchEvent(new Event('change'));
    form.closest('details').open = false;
    await loadCharacters();
    await openRoom(character);
    if (refused) showRoomError(new Error(`The picture was not kept: ${refused.message}`));
  } catch (error) {
    showRoomError(error);
  }
};

$('talk').onclick = () => talk();
$('hang-up').onclick = () => hangUp().catch(showRoomError);
$('composer').onsubmit = (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  if (input.value.trim() === '' || state.chat === null) return;
  state.chat.send(input.value.trim());
  input.value = '';
};

main().catch((error) => {
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = error.message;
});
