// The gallery: other people's public characters, searched and sorted by the API
// (GET /api/characters?public=true&q=&sort=popular|new), a page at a time, with a button to
// start talking to one.

import { api } from './auth.js';
import { pictureOf } from './pictures.js';

const PAGE = 12;
const $ = (id) => document.getElementById(id);

/** Wires the gallery's search form; `onTalk(character)` opens a conversation. */
export function setUpGallery(onTalk) {
  let query = { q: '', sort: 'popular' };
  let offset = 0;
  // Each new list (a search, a sort, the first opening) starts a new generation; an answer
  // from an older one arrives too late to show, or it would replace the newer list.
  let generation = 0;
  const show = async (more) => {
    if (!more) {
      generation += 1;
      offset = 0;
    }
    const asked = generation;
    const params = new URLSearchParams({ public: 'true', sort: query.sort, limit: String(PAGE) });
    params.set('offset', String(offset));
    if (query.q !== '') params.set('q', query.q);
    const found = await (await api(`/api/characters?${params}`)).json();
    if (asked !== generation) return;
    const items = found.map((character) => galleryItem(character, onTalk));
    if (more) $('gallery-list').append(...items);
    else $('gallery-list').replaceChildren(...items);
    offset += found.length;
    $('gallery-more').hidden = found.length < PAGE;
    $('gallery-empty').hidden = offset > 0;
  };
  const fail = (error) => {
    $('gallery-error').textContent = error.message;
  };
  $('gallery-search').onsubmit = (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(event.target));
    query = { q: String(fields.q ?? '').trim(), sort: String(fields.sort ?? 'popular') };
    $('gallery-error').textContent = '';
    show(false).catch(fail);
  };
  $('gallery-more').onclick = () => show(true).catch(fail);
  $('gallery').ontoggle = () => {
    if ($('gallery').open && $('gallery-list').childElementCount === 0) show(false).catch(fail);
  };
}

function galleryItem(character, onTalk) {
  const name = document.createElement('strong');
  name.textContent = character.name;
  const about = document.createElement('p');
  about.className = 'muted';
  about.textContent = character.description ?? '';
  const talk = document.createElement('button');
  talk.type = 'button';
  talk.textContent = 'Talk';
  talk.setAttribute('aria-label', `Talk to ${character.name}`);
  talk.onclick = () => onTalk(character);
  const item = document.createElement('li');
  item.className = 'gallery-item';
  item.dataset.characterId = character.id;
  item.append(pictureOf(character), name, about, talk);
  return item;
}
