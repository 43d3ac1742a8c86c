import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.js';

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, unknown>;
}
type Paths = Record<string, Record<string, Operation>>;

let t: TestApp;
let paths: Paths;

beforeAll(async () => {
  t = await startTestApp();
  paths = (await t.app.inject({ url: '/openapi.json' })).json().paths;
});
afterAll(() => t.close());

/** `method path`, with the query parameters a client needs to know of. */
const FEATURES: [string, string, string[]][] = [
  // Voices and cloning
  ['get', '/api/voices', ['language', 'q']],
  ['get', '/api/voices/{id}/preview', ['language']],
  ['get', '/api/voices/clones', []],
  ['post', '/api/voices/clones', ['name', 'language']],
  ['delete', '/api/voices/clones/{id}', []],
  // Memory
  ['get', '/api/chat-rooms/{id}/memories', []],
  ['patch', '/api/chat-rooms/{id}/memories/{memoryId}', []],
  ['delete', '/api/chat-rooms/{id}/memories/{memoryId}', []],
  ['patch', '/api/chat-rooms/{id}', []],
  ['delete', '/api/chat-rooms/{id}', []],
  // Knowledge
  ['post', '/api/characters/{characterId}/documents/file', ['filename']],
  ['get', '/api/characters/{characterId}/documents', []],
  ['get', '/api/characters/{characterId}/knowledge', ['q']],
  // Gallery and picture
  ['get', '/api/characters', ['public', 'q', 'sort', 'limit', 'offset']],
  ['put', '/api/characters/{id}/picture', []],
  ['get', '/api/characters/{id}/picture', []],
];

describe('/openapi.json for characters people come back to (#16)', () => {
  it('lists every voice, memory, knowledge, gallery and picture endpoint with its query', () => {
    for (const [method, path, query] of FEATURES) {
      const operation = paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      const inQuery = (operation?.parameters ?? []).filter((p) => p.in === 'query');
      expect(inQuery.map((p) => p.name).sort(), `${method} ${path}`).toEqual([...query].sort());
    }
  });

  it('says which file each raw upload takes, so a generated client sends one', () => {
    const uploads: [string, string, string[]][] = [
      ['post', '/api/voices/clones', ['audio/wav']],
      ['put', '/api/characters/{id}/picture', ['image/png', 'image/jpeg', 'image/webp']],
      ['post', '/api/characters/{characterId}/documents/file', ['application/octet-stream']],
    ];
    for (const [method, path, types] of uploads) {
      const body = paths[path]?.[method]?.requestBody;
      expect(Object.keys(body?.content ?? {}).sort(), `${method} ${path}`).toEqual(types.sort());
      for (const type of types) {
        expect(body?.content[type]?.schema).toMatchObject({ type: 'string', format: 'binary' });
      }
    }
  });
});
