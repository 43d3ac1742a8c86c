import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { bearer, startTestApp, type TestApp } from './test-app.js';
import { connectChat, ofType } from './ws-client.js';

/** The app's logs at info level, read back: requests carry an id, secrets never appear. */
let t: TestApp;
let base: string | undefined;
const lines: string[] = [];

beforeAll(async () => {
  t = await startTestApp({
    logDestination: {
      write(line: string) {
        lines.push(line);
      },
    },
  });
});
afterAll(() => t.close());

describe('logs', () => {
  it('carry a request id and never an access token, room token or key', async () => {
    const secrets: string[] = [];
    const token = await t.token();
    secrets.push(token);
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });

    await t.app.inject({ url: '/api/characters', headers: bearer(token) });
    const forged = `${token.slice(0, -4)}AAAA`;
    secrets.push(forged);
    await t.app.inject({ url: '/api/characters', headers: bearer(forged) });
    const issued = await t.app.inject({
      method: 'POST',
      url: '/api/token',
      headers: bearer(token),
      payload: { character_id: mira.id },
    });
    secrets.push(issued.json().participant_token);

    base = await t.listen();
    const viaProtocol = connectChat(`${base}/ws/chat?character_id=${mira.id}`, { token });
    await viaProtocol.next(ofType('ready'));
    viaProtocol.socket.close();
    const frameToken = await t.token();
    secrets.push(frameToken);
    const viaFrame = connectChat(`${base}/ws/chat?character_id=${mira.id}`);
    viaFrame.send({ type: 'auth', token: frameToken });
    await viaFrame.next(ofType('ready'));
    viaFrame.socket.close();

    const log = lines.join('');
    expect(log).toContain('incoming request');
    const requestLogs = lines.map((line) => JSON.parse(line)).filter((entry) => entry.req);
    expect(requestLogs.length).toBeGreaterThan(4);
    expect(requestLogs.every((entry) => typeof entry.requestId === 'string')).toBe(true);
    for (const secret of secrets) {
      // Any JWT part would do; the signature is the part that must never leak.
      const signature = secret.split('.')[2] ?? secret;
      expect(log).not.toContain(signature);
    }
    expect(log).not.toContain(t.config.livekit.apiSecret ?? 'no secret configured');
  });

  it('never carry a token sent in a URL, which is refused', async () => {
    const token = await t.token();
    const signature = token.split('.')[2] as string;
    const mira = await makeCharacter(t.db, await makeUser(t.db), { isPublic: true });
    const before = lines.length;
    const refused = await t.app.inject({ url: `/api/characters?access_token=${token}` });
    expect(refused.statusCode).toBe(401);
    base ??= await t.listen();
    const chat = connectChat(`${base}/ws/chat?character_id=${mira.id}&token=${token}`);
    await chat.closed;
    const log = lines.slice(before).join('');
    expect(log).toContain('access_token=');
    expect(log).not.toContain(signature);
  });
});
