import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../../tests/http/test-app.js';

let t: TestApp;
let headers: { authorization: string };
let characterId: string;

beforeAll(async () => {
  t = await startTestApp();
  headers = bearer(await t.token());
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/characters',
    headers,
    payload: { name: 'Mira', instructions: 'You are Mira.' },
  });
  characterId = created.json().id;
});
afterAll(() => t.close());

const base = () => `/api/characters/${characterId}/documents`;

async function upload(payload: object) {
  return t.app.inject({ method: 'POST', url: base(), headers, payload });
}

/** Reads the document until ingestion has left `pending` (the test's timeout bounds it). */
async function settled(id: string) {
  for (;;) {
    const document = (await t.app.inject({ url: `${base()}/${id}`, headers })).json();
    if (document.status !== 'pending') return document;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('knowledge documents', () => {
  it('accepts a Markdown document at once, then ingests it to ready', async () => {
    const content = `# Moons\n\n${'Europa has an ocean under its ice. '.repeat(80)}\n\n## Rings\n\nSaturn’s rings are ice.`;
    const response = await upload({ title: 'Moons', content_type: 'text/markdown', content });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ title: 'Moons', status: 'pending', chunk_count: 0 });
    expect(response.json().content).toBeUndefined();

    const document = await settled(response.json().id);
    expect(document).toMatchObject({ status: 'ready', error: null, content });
    expect(document.chunk_count).toBeGreaterThan(1);
    expect(t.brain.emulator.requests.embeddings.length).toBeGreaterThan(0);

    const listed = (await t.app.inject({ url: base(), headers })).json();
    expect(listed.map((d: { id: string }) => d.id)).toContain(document.id);
  });

  it('marks a document failed when the embedding provider fails, with the reason', async () => {
    t.brain.emulator.failNext(1, 400, { endpoint: 'embeddings' });
    const response = await upload({
      title: 'Doomed',
      content_type: 'text/plain',
      content: 'Hello.',
    });
    expect(response.statusCode).toBe(202);
    const document = await settled(response.json().id);
    expect(document.status).toBe('failed');
    expect(document.error).toEqual(expect.any(String));
  });

  it('deletes a document', async () => {
    const created = (
      await upload({ title: 'Gone', content_type: 'text/plain', content: 'Bye.' })
    ).json();
    await settled(created.id);
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `${base()}/${created.id}`,
      headers,
    });
    expect(removed.statusCode).toBe(204);
    const again = await t.app.inject({ url: `${base()}/${created.id}`, headers });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('DOCUMENT.NOT_FOUND');
  });

  it('refuses content types other than text and Markdown, and empty content', async () => {
    const pdf = await upload({ title: 'PDF', content_type: 'application/pdf', content: '%PDF' });
    expect(pdf.statusCode).toBe(400);
    expect(pdf.json().error.details[0].field).toBe('content_type');
    const blank = await upload({ title: 'Blank', content_type: 'text/plain', content: '   ' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.details[0].field).toBe('content');
  });
});
