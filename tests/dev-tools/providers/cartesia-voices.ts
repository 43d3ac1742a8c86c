/**
 * Cartesia's voice endpoints, as its public API reference describes them: `GET /voices`
 * (cursor pages of `{data, has_more}`, `q`, `limit`, `starting_after`, `is_owner`),
 * `GET /voices/:id`, `POST /voices/clone` (multipart: `clip`, `name`, `language`,
 * `description`) and `DELETE /voices/:id` (204). A clone is private to the key that made it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendCartesiaError } from './cartesia-bytes.js';
import { problem } from './cartesia-protocol.js';
import { readBody, sendJson } from './http.js';

/** A voice as `GET /voices` returns it (the fields Parley and the client read). */
export interface EmulatedVoice {
  id: string;
  name: string;
  description: string;
  language: string;
  gender: 'masculine' | 'feminine' | 'gender_neutral' | null;
  access: 'private' | 'public';
  visibility: 'owner' | 'all';
  is_owner: boolean;
  created_at: string;
  tagline: string;
  locales: { locale: string; is_native: boolean }[];
}

/** A clone the emulator accepted: what was uploaded, for tests to inspect. */
export interface CloneRequest {
  voiceId: string;
  apiKey: string;
  name: string;
  language: string;
  clipBytes: number;
  clipType: string;
}

const LIBRARY: [string, string, string, EmulatedVoice['gender']][] = [
  ['794f9389-aac1-45b6-b726-9d9369183238', 'Sarah', 'en', 'feminine'],
  ['a0e99841-438c-4a64-b679-ae501e7d6091', 'Barbershop Man', 'en', 'masculine'],
  ['156fb8d2-335b-4950-9cb3-a2d33befec77', 'Helpful Woman', 'en', 'feminine'],
  ['2deb3edf-b9d8-4d06-8db9-5742fb8a3cb2', 'Spanish Narrator Lady', 'es', 'feminine'],
  ['846d6cb0-2301-48b6-9683-48f5618ea2f6', 'Spanish Speaking Lady', 'es', 'feminine'],
  ['b9de4a89-2257-424b-94c2-db18ba68c81a', 'German Woman', 'de', 'feminine'],
  ['fb9fcab6-aba5-49ec-8d7e-3f1100296dde', 'German Conversational Man', 'de', 'masculine'],
  ['a8a1eb38-5f15-4c1d-8722-7ac0f329727d', 'French Narrator Man', 'fr', 'masculine'],
];

function libraryVoice([id, name, language, gender]: (typeof LIBRARY)[number]): EmulatedVoice {
  return {
    id,
    name,
    description: `${name}: a stock voice that speaks ${language}.`,
    language,
    gender,
    access: 'public',
    visibility: 'all',
    is_owner: false,
    created_at: '2024-01-01T00:00:00Z',
    tagline: '',
    locales: [{ locale: language, is_native: true }],
  };
}

/** The voice library plus the clones made through this emulator. */
export class VoiceStore {
  readonly clones: CloneRequest[] = [];
  readonly deleted: string[] = [];
  /** How many `GET /voices` pages were asked for. */
  listCalls = 0;
  private readonly owned = new Map<string, { apiKey: string; voice: EmulatedVoice }>();
  private readonly library = LIBRARY.map(libraryVoice);

  /** Voices `apiKey` may see: the public library and its own clones. */
  visible(apiKey: string): EmulatedVoice[] {
    const own = [...this.owned.values()].filter((entry) => entry.apiKey === apiKey);
    return [...this.library, ...own.map((entry) => entry.voice)];
  }

  find(apiKey: string, id: string): EmulatedVoice | undefined {
    return this.visible(apiKey).find((voice) => voice.id === id);
  }

  add(apiKey: string, clone: Omit<CloneRequest, 'voiceId' | 'apiKey'>): EmulatedVoice {
    const voice: EmulatedVoice = {
      ...libraryVoice([randomUUID(), clone.name, clone.language, null]),
      description: '',
      access: 'private',
      visibility: 'owner',
      is_owner: true,
      created_at: new Date().toISOString(),
    };
    this.owned.set(voice.id, { apiKey, voice });
    this.clones.push({ ...clone, voiceId: voice.id, apiKey });
    return voice;
  }

  /** Deletes an own clone; false when the key does not own it (stock voices included). */
  remove(apiKey: string, id: string): boolean {
    const entry = this.owned.get(id);
    if (entry === undefined || entry.apiKey !== apiKey) return false;
    this.owned.delete(id);
    this.deleted.push(id);
    return true;
  }
}

/** Answers a voice route, or returns false when the path is not one. */
export async function answerVoices(
  req: IncomingMessage,
  res: ServerResponse,
  store: VoiceStore,
  credentials: { apiKey: string; version: string | undefined },
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const { apiKey, version } = credentials;
  const idMatch = /^\/voices\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && url.pathname === '/voices') {
    store.listCalls += 1;
    sendJson(res, 200, listPage(store.visible(apiKey), url.searchParams));
  } else if (req.method === 'POST' && url.pathname === '/voices/clone') {
    await clone(req, res, store, credentials);
  } else if (req.method === 'GET' && idMatch?.[1] !== undefined) {
    const voice = store.find(apiKey, decodeURIComponent(idMatch[1]));
    if (voice === undefined) notFound(res, version);
    else sendJson(res, 200, voice);
  } else if (req.method === 'DELETE' && idMatch?.[1] !== undefined) {
    if (!store.remove(apiKey, decodeURIComponent(idMatch[1]))) notFound(res, version);
    else res.writeHead(204).end();
  } else {
    return false;
  }
  return true;
}

function notFound(res: ServerResponse, version: string | undefined): void {
  sendCartesiaError(res, problem(404, 'Not found', 'Voice not found.', 'not_found'), version);
}

/** One cursor page: `limit` (1-100, default 10) voices after `starting_after`, `q` filtered. */
function listPage(voices: EmulatedVoice[], query: URLSearchParams) {
  const q = query.get('q')?.toLowerCase();
  const ownOnly = query.get('is_owner') === 'true';
  const filtered = voices.filter(
    (voice) =>
      (!ownOnly || voice.is_owner) &&
      (q === undefined ||
        [voice.name, voice.description, voice.id].some((field) => field.toLowerCase().includes(q))),
  );
  const after = query.get('starting_after');
  const start = after === null ? 0 : filtered.findIndex((voice) => voice.id === after) + 1;
  const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 10) || 10));
  const data = filtered.slice(start, start + limit);
  return { data, has_more: start + limit < filtered.length };
}

/** `POST /voices/clone`: multipart form data, parsed by the platform's own `Request`. */
async function clone(
  req: IncomingMessage,
  res: ServerResponse,
  store: VoiceStore,
  { apiKey, version }: { apiKey: string; version: string | undefined },
): Promise<void> {
  const body = await readBody(req);
  let form: FormData;
  try {
    const headers = { 'content-type': req.headers['content-type'] ?? '' };
    form = await new Request('http://emulator.invalid', {
      method: 'POST',
      headers,
      body: new Uint8Array(body),
    }).formData();
  } catch {
    const bad = problem(400, 'Invalid request', 'Expected multipart/form-data.', 'invalid_request');
    return sendCartesiaError(res, bad, version);
  }
  const clip = form.get('clip');
  const name = form.get('name');
  const language = form.get('language');
  if (!(clip instanceof Blob) || clip.size === 0 || typeof name !== 'string' || name === '') {
    const bad = problem(400, 'Invalid request', 'clip and name are required.', 'invalid_request');
    return sendCartesiaError(res, bad, version);
  }
  const voice = store.add(apiKey, {
    name,
    language: typeof language === 'string' && language !== '' ? language : 'en',
    clipBytes: clip.size,
    clipType: clip.type,
  });
  const { id, name: voiceName, description, language: lang, created_at, tagline } = voice;
  sendJson(res, 200, {
    id,
    name: voiceName,
    description,
    language: lang,
    created_at,
    tagline,
    access: 'private',
    user_id: 'emulated-user',
  });
}
