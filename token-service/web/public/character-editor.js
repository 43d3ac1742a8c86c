// Editing a character you own, from its room: name, description, instructions, greeting,
// language and voice, who may talk to it, and its picture. The fields that changed go in one
// PATCH /api/characters/:id; a new picture goes to PUT /api/characters/:id/picture, and a
// refused one is explained without undoing the rest.
import { api } from './auth.js';
import { element, say, statusLine } from './dom.js';
import { uploadPicture } from './pictures.js';
import { fetchVoices, playVoicePreview, voiceOption } from './voices.js';

/**
 * Fills the panel for `character`; hidden unless the caller owns it. `onSaved(character)`
 * is told of each saved change, with the character as the API now returns it.
 */
export function showEditor(panel, character, onSaved) {
  panel.hidden = !character.is_own;
  if (!character.is_own) return panel.replaceChildren();
  let current = character;
  const form = editForm(character);
  panel.replaceChildren(element('summary', 'Edit character'), form.element);
  const fill = () => fillVoices(form.fields, current).catch((error) => say(form.status, error));
  let voicesLoaded = false;
  panel.ontoggle = () => {
    if (!panel.open || voicesLoaded) return;
    voicesLoaded = true;
    fill();
  };
  form.fields.language.onchange = fill;
  form.preview.onclick = () =>
    playVoicePreview(form.fields.voice_id.selectedOptions[0], form.fields.language.value).catch(
      (error) => say(form.status, error),
    );
  form.element.onsubmit = async (event) => {
    event.preventDefault();
    form.save.disabled = true;
    say(form.status, 'Saving…');
    try {
      const { saved, changed, message } = await save(current, form.fields);
      current = saved;
      form.fields.picture.value = '';
      // Said once the room shows the change, so what the status says is on screen.
      if (changed) await onSaved(saved);
      say(form.status, message);
    } catch (error) {
      say(form.status, error);
    } finally {
      form.save.disabled = false;
    }
  };
}

/** PATCHes what changed, then uploads the picture; says what was kept. */
async function save(character, fields) {
  const patch = changes(character, fields);
  const picture = fields.picture.files[0];
  if (Object.keys(patch).length === 0 && picture === undefined) {
    return { saved: character, changed: false, message: 'Nothing to save: no field was changed.' };
  }
  let saved = character;
  if (Object.keys(patch).length > 0) {
    const response = await api(`/api/characters/${character.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    saved = await response.json();
  }
  if (picture === undefined) return { saved, changed: true, message: 'Saved.' };
  try {
    await uploadPicture(character.id, picture);
    return { saved, changed: true, message: 'Saved, with the new picture.' };
  } catch (error) {
    const changed = saved !== character;
    const kept = changed ? 'The other changes are saved; the picture' : 'The picture';
    return { saved, changed, message: `${kept} was not kept: ${error.message}` };
  }
}

/** The API fields whose form value differs from the character; empty optional text is null. */
function changes(character, fields) {
  const optional = (input) => input.value.trim() || null;
  const values = {
    name: fields.name.value.trim(),
    description: optional(fields.description),
    instructions: fields.instructions.value.trim(),
    greeting: optional(fields.greeting),
    language: fields.language.value,
    voice_id: fields.voice_id.value || null,
    is_public: fields.is_public.checked,
  };
  return Object.fromEntries(
    Object.entries(values).filter(([key, value]) => value !== (character[key] ?? null)),
  );
}

/** The voices of the chosen language, keeping the character's own voice and the default. */
async function fillVoices(fields, character) {
  const select = fields.voice_id;
  const chosen = select.value;
  const list = await fetchVoices(fields.language.value);
  const options = list.voices.map(voiceOption);
  const has = (value) => options.some((option) => option.value === value);
  if (character.voice_id !== null && !has(character.voice_id)) {
    options.unshift(new Option('Its current voice', character.voice_id));
  }
  if (!has('')) options.unshift(new Option('The server’s default voice', ''));
  select.replaceChildren(...options);
  select.value = options.some((option) => option.value === chosen) ? chosen : '';
}

/** The form, filled with the character as it is. */
function editForm(character) {
  const form = element('form');
  form.id = 'character-edit-form';
  const fields = {
    name: input('name', character.name, { maxLength: 100, required: true }),
    description: input('description', character.description, { maxLength: 300 }),
    instructions: textArea('instructions', character.instructions),
    greeting: input('greeting', character.greeting, { maxLength: 2000 }),
    language: languageSelect(character.language),
    voice_id: element('select'),
    is_public: input('is_public', null, { type: 'checkbox', checked: character.is_public }),
    picture: input('picture', null, { type: 'file', accept: 'image/png,image/jpeg,image/webp' }),
  };
  fields.voice_id.name = 'voice_id';
  const voiceLabel =
    character.voice_id === null ? 'The server’s default voice' : 'Its current voice';
  fields.voice_id.append(new Option(voiceLabel, character.voice_id ?? ''));
  const preview = element('button', '▶ Preview');
  preview.type = 'button';
  const save = element('button', 'Save');
  save.type = 'submit';
  const status = statusLine();
  const voice = labelled('Voice', fields.voice_id);
  voice.append(preview);
  const isPublic = element('label');
  isPublic.append(fields.is_public, ' Others may talk to it');
  form.append(
    labelled('Name', fields.name),
    labelled('One line for the gallery', fields.description),
    labelled('Who they are and how they speak', fields.instructions),
    labelled('Greeting', fields.greeting),
    labelled('Language', fields.language),
    voice,
    isPublic,
    labelled('New picture (PNG, JPEG or WebP, up to 5 MB)', fields.picture),
    save,
    status,
  );
  return { element: form, fields, preview, save, status };
}

/** The language choices of the new-character form, plus the character's own if it is not one. */
function languageSelect(language) {
  const select = element('select');
  select.name = 'language';
  const offered = [...document.getElementById('character-language').options];
  select.append(...offered.map((option) => new Option(option.text, option.value)));
  if (!offered.some((option) => option.value === language)) {
    select.append(new Option(language, language));
  }
  select.value = language;
  return select;
}

function input(name, value, properties = {}) {
  const node = element('input');
  node.name = name;
  if (value !== null && value !== undefined) node.value = value;
  Object.assign(node, properties);
  return node;
}

function textArea(name, value) {
  const node = element('textarea');
  node.name = name;
  node.rows = 5;
  node.maxLength = 20_000;
  node.required = true;
  node.value = value ?? '';
  return node;
}

function labelled(text, control) {
  const label = element('label', text);
  label.className = 'field';
  label.append(control);
  return label;
}
