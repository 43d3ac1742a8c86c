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

const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const MAX_PICTURE_BYTES = 5 * 1024 * 1024;

/**
 * Uploads a picture for the caller's character. A refusal (checked here first, then by the
 * API: 415 type, 413 size, 422 unreadable) throws an Error saying what to choose instead.
 */
export async function uploadPicture(characterId, file) {
  if (!PICTURE_TYPES.includes(file.type)) throw pictureError(415, file);
  if (file.size > MAX_PICTURE_BYTES) throw pictureError(413, file);
  try {
    await api(`/api/characters/${characterId}/picture`, {
      method: 'PUT',
      headers: { 'content-type': file.type },
      body: file,
    });
  } catch (error) {
    throw pictureError(error.status, file, error);
  }
  forget(characterId);
}

/** Why a picture was refused, in words that say what to choose instead. */
function pictureError(status, file, cause) {
  const name = `“${file.name}”`;
  const message =
    status === 415
      ? `${name} is not a PNG, JPEG or WebP image; choose one of those.`
      : status === 413
        ? `${name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; a picture may be 5 MB at most.`
        : status === 422
          ? `${name} could not be read as an image; it may be damaged or not really a picture.`
          : (cause?.message ?? 'The picture could not be uploaded.');
  return new Error(message, { cause });
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
