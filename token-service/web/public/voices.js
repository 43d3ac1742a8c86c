// The character form's voice and language: a list of voices (GET /api/voices) with a
// preview each, a recorder (or an upload) that clones the user's own voice from 10-20 s of
// speech, and the user's cloned voices with a delete button each.

import { api } from './auth.js';

const $ = (id) => document.getElementById(id);
const RECORD_SECONDS = 12;
const previewUrls = new Map();

/** The voices for `language` matching `search`, as `GET /api/voices` lists them. */
export async function fetchVoices(language, search = '') {
  const query = new URLSearchParams({ language });
  if (search !== '') query.set('q', search);
  return (await api(`/api/voices?${query}`)).json();
}

/** A voice as an <option>: flite's value is '', the server's own voice (no voice id). */
export function voiceOption(voice) {
  const option = new Option(optionLabel(voice), voice.id === 'flite' ? '' : voice.id);
  option.dataset.preview = voice.preview_url;
  return option;
}

/** Fills the voice list for the chosen language; says plainly when only flite is there. */
export async function loadVoices() {
  const list = await fetchVoices($('character-language').value, $('voice-search').value.trim());
  $('voice-notice').textContent = list.notice ?? '';
  $('voice-notice').hidden = list.notice === null;
  $('voice-clone').hidden = list.provider !== 'cartesia';
  const select = $('character-voice');
  const chosen = select.value;
  select.replaceChildren(...list.voices.map(voiceOption));
  if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  showClones(list.voices.filter((voice) => voice.source === 'cloned'));
}

/** The user's own voices, each deletable (here and at Cartesia). */
function showClones(clones) {
  $('voice-clones').replaceChildren(
    ...clones.map((voice) => {
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete voice ${voice.name}`);
      remove.onclick = reporting(() => deleteClone(voice));
      const item = document.createElement('li');
      item.dataset.voiceId = voice.id;
      item.append(voice.name, ' ', remove);
      return item;
    }),
  );
}

async function deleteClone(voice) {
  await api(`/api/voices/clones/${encodeURIComponent(voice.id)}`, { method: 'DELETE' });
  $('voice-clone-status').textContent = `Voice “${voice.name}” deleted.`;
  await loadVoices();
}

function optionLabel(voice) {
  const mine = voice.source === 'cloned' ? ' (your voice)' : '';
  return `${voice.name}${mine} · ${voice.language}`;
}

/** Plays a voice option's preview; the audio is fetched with the token, then kept. */
export async function playVoicePreview(option, language) {
  if (!option?.dataset.preview) return;
  const url = `${option.dataset.preview}?language=${encodeURIComponent(language)}`;
  let blobUrl = previewUrls.get(url);
  if (blobUrl === undefined) {
    blobUrl = URL.createObjectURL(await (await api(url)).blob());
    previewUrls.set(url, blobUrl);
  }
  const audio = previewPlayer();
  audio.src = blobUrl;
  await audio.play();
}

/** The one hidden player previews play in (a spoken sample has no captions to show). */
function previewPlayer() {
  let audio = $('voice-preview');
  if (audio === null) {
    audio = document.createElement('audio');
    audio.id = 'voice-preview';
    audio.hidden = true;
    $('voice-picker').append(audio);
  }
  return audio;
}

/** Records `RECORD_SECONDS` from the microphone and sends it as a WAV clip to clone. */
async function recordAndClone() {
  const status = $('voice-clone-status');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  try {
    const recorder = new MediaRecorder(stream);
    const chunks = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => {
      recorder.onstop = resolve;
    });
    recorder.start();
    status.textContent = `Recording… speak for ${RECORD_SECONDS} seconds.`;
    await new Promise((resolve) => setTimeout(resolve, RECORD_SECONDS * 1000));
    recorder.stop();
    await stopped;
    await cloneFrom(new Blob(chunks, { type: recorder.mimeType }));
  } finally {
    for (const track of stream.getTracks()) track.stop();
  }
}

/** Decodes any clip the browser can play, and uploads it as mono 16-bit WAV. */
async function cloneFrom(blob) {
  const status = $('voice-clone-status');
  status.textContent = 'Making your voice…';
  const context = new AudioContext();
  const audio = await context.decodeAudioData(await blob.arrayBuffer());
  await context.close();
  const name = $('voice-clone-name').value.trim() || 'My voice';
  const query = new URLSearchParams({ name, language: $('character-language').value });
  const response = await api(`/api/voices/clones?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'audio/wav' },
    body: toWav(audio),
  });
  const voice = await response.json();
  await loadVoices();
  $('character-voice').value = voice.id;
  status.textContent = `Your voice “${voice.name}” is ready.`;
}

/** Mono 16-bit PCM WAV of the first channel. */
function toWav(audio) {
  const samples = audio.getChannelData(0);
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, value) => {
    for (let i = 0; i < value.length; i += 1) view.setUint8(offset + i, value.charCodeAt(i));
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, Math.round(s * 32767), true);
  }
  return new Blob([buffer], { type: 'audio/wav' });
}

/** Shows an error under the voice controls instead of losing it. */
function reporting(action) {
  return () =>
    action().catch((error) => {
      $('voice-clone-status').textContent = error.message;
    });
}

/** Wires the form's voice controls; call once the user is signed in. */
export function setUpVoicePicker() {
  $('character-language').onchange = reporting(loadVoices);
  $('voice-search').onchange = reporting(loadVoices);
  $('voice-play').onclick = reporting(() =>
    playVoicePreview($('character-voice').selectedOptions[0], $('character-language').value),
  );
  $('voice-record').onclick = reporting(recordAndClone);
  $('voice-upload').onchange = reporting(async () => {
    const file = $('voice-upload').files[0];
    if (file) await cloneFrom(file);
  });
  return loadVoices();
}
