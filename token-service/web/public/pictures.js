// Characters' pictures. The API serves them to signed-in callers only (a private character's
// picture is as private as the character), so an <img src> cannot fetch them: they are read
// with the Bearer token and shown from object URLs, one per character, revoked when replaced.

import { api } from './auth.js';

const urls = new Map();

/** An <img> showing the character's picture (or the initial the API draws when it has none). */
export function pictureOf(character) {
  const img = document.createElement('img');
  img.className = 'avatar';
  img.alt = '';
  img.dataset.characterId = character.id;
  pictureUrl(character.id)
    .then((url) => {
      img.src = url;
    })
    .catch(() => {
      img.replaceWith(initialOf(character.name));
    });
  return img;
}

/** Uploads a picture for the caller's character; the API's message explains a refusal. */
export async function uploadPicture(characterId, file) {
  await api(`/api/characters/${characterId}/picture`, {
    method: 'PUT',
    headers: { 'content-type': file.type || 'application/octet-stream' },
    body: file,
  });
  forget(characterId);
}

function pictureUrl(characterId) {
  let url = urls.get(characterId);
  if (url === undefined) {
    url = api(`/api/characters/${characterId}/picture`)
      .then((response) => response.blob())
      .then((blob) => URL.createObjectURL(blob));
    urls.set(characterId, url);
    url.catch(() => urls.delete(characterId));
  }
  return url;
}

function forget(characterId) {
  const url = urls.get(characterId);
  urls.delete(characterId);
  url?.then((href) => URL.revokeObjectURL(href)).catch(() => {});
}

function initialOf(name) {
  const disc = document.createElement('span');
  disc.className = 'avatar';
  disc.setAttribute('aria-hidden', 'true');
  disc.textContent = (name.trim()[0] ?? '?').toUpperCase();
  return disc;
}
