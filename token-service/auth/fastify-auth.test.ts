import type { AddressInfo } from 'node:net';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ErrorCode, isAppError } from '../../core/errors.js';
import { type FakeSupabase, startFakeSupabase } from '../../tests/supabase/fake-supabase.js';
import {
  authPlugin,
  bearerFromAuthorizationHeader,
  bearerFromProtocolHeader,
  PARLEY_WS_PROTOCOL,
  requireUser,
  selectWebSocketProtocol,
} from './fastify-auth.js';
import { createAccessTokenVerifier, supabaseVerifierOptions } from './verifier.js';

let supabase: FakeSupabase;
let app: FastifyInstance;
let wsUrl: string;

/** Stands in for the server's one error handler: the code is what these tests look at. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  'AUTH.MISSING': 401,
  'AUTH.INVALID': 401,
  'AUTH.UNAVAILABLE': 503,
};

beforeAll(async () => {
  supabase = await startFakeSupabase();
  const verifier = createAccessTokenVerifier(
    supabaseVerifierOptions({ supabaseUrl: supabase.url, jwksCacheMs: 600_000 }),
  );
  app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    const code = isAppError(error) ? error.code : 'INTERNAL';
    return reply.status(STATUS[code] ?? 500).send({ code });
  });
  await app.register(websocket, { options: { handleProtocols: selectWebSocketProtocol } });
  app.get('/health', async (request) => ({ ok: true, user: request.user ?? null }));
  await app.register(async (api) => {
    await api.register(authPlugin, { verifier });
    api.get('/api/me', async (request) => requireUser(request));
    api.get('/api/chat', { websocket: true }, (socket, request) => {
      socket.send(JSON.stringify(requireUser(request)));
      socket.close();
    });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  wsUrl = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/chat`;
});

afterAll(async () => {
  await app.close();
  await supabase.close();
});

function me(authorization?: string) {
  return app.inject({
    method: 'GET',
    url: '/api/me',
    headers: authorization === undefined ? {} : { authorization },
  });
}

describe('bearer auth on HTTP routes', () => {
  it('sets request.user from a valid bearer token', async () => {
    const sub = crypto.randomUUID();
    const response = await me(`Bearer ${await supabase.signAccessToken({ sub })}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: sub, role: 'authenticated' });
  });

  it('accepts the scheme in any case', async () => {
    const response = await me(`bearer ${await supabase.signAccessToken()}`);
    expect(response.statusCode).toBe(200);
  });

  it('answers AUTH.MISSING without a header', async () => {
    const response = await me();
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ code: 'AUTH.MISSING' });
  });

  it.each([
    ['another scheme', async () => `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['no token', async () => 'Bearer '],
    ['two tokens', async () => `Bearer ${await supabase.signAccessToken()} extra`],
    ['a forged token', async () => `Bearer ${await supabase.signAccessToken({ aud: 'x' })}`],
    ['the anon key', async () => `Bearer ${await supabase.anonKey()}`],
  ])('answers AUTH.INVALID for %s', async (_name, header) => {
    const response = await me(await header());
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ code: 'AUTH.INVALID' });
  });

  it('leaves routes outside the protected scope alone', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.json()).toEqual({ ok: true, user: null });
  });

  it('does not read a token from Sec-WebSocket-Protocol on a plain HTTP request', async () => {
    const token = await supabase.signAccessToken();
    const response = await app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { 'sec-websocket-protocol': `${PARLEY_WS_PROTOCOL}, bearer.${token}` },
    });
    expect(response.json()).toEqual({ code: 'AUTH.MISSING' });
  });
});

/** Opens a real WebSocket; resolves with the first message, or the handshake's HTTP status. */
function connect(protocols: string[]): Promise<{ protocol: string; message: unknown } | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, protocols);
    socket.once('message', (data) => {
      resolve({ protocol: socket.protocol, message: JSON.parse(String(data)) });
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    socket.once('error', reject);
  });
}

describe('bearer auth on the WebSocket handshake', () => {
  it('authenticates with the bearer.<token> sub-protocol and answers parley.v1', async () => {
    const sub = crypto.randomUUID();
    const token = await supabase.signAccessToken({ sub });
    const result = await connect([PARLEY_WS_PROTOCOL, `bearer.${token}`]);
    expect(result).toEqual({
      protocol: PARLEY_WS_PROTOCOL,
      message: expect.objectContaining({ id: sub }),
    });
  });

  it('refuses the handshake with 401 for a missing or forged token', async () => {
    expect(await connect([PARLEY_WS_PROTOCOL])).toBe(401);
    const forged = await supabase.signAccessToken({ iss: 'https://evil.example.com/auth/v1' });
    expect(await connect([PARLEY_WS_PROTOCOL, `bearer.${forged}`])).toBe(401);
  });
});

describe('header parsing', () => {
  it('extracts the token from Sec-WebSocket-Protocol values', () => {
    expect(bearerFromProtocolHeader('parley.v1, bearer.a.b.c')).toBe('a.b.c');
    expect(bearerFromProtocolHeader(['parley.v1', 'bearer.a.b.c'])).toBe('a.b.c');
    expect(bearerFromProtocolHeader('parley.v1')).toBeUndefined();
    expect(bearerFromProtocolHeader(undefined)).toBeUndefined();
    expect(() => bearerFromProtocolHeader('parley.v1, bearer.')).toThrow(
      expect.objectContaining({ code: 'AUTH.INVALID' }),
    );
    expect(() => bearerFromProtocolHeader('bearer.a.b.c, bearer.d.e.f')).toThrow(
      expect.objectContaining({ code: 'AUTH.INVALID' }),
    );
  });

  it('extracts the token from an Authorization header', () => {
    expect(bearerFromAuthorizationHeader('Bearer a.b.c')).toBe('a.b.c');
    expect(bearerFromAuthorizationHeader(undefined)).toBeUndefined();
    expect(() => bearerFromAuthorizationHeader('Token a.b.c')).toThrow(
      expect.objectContaining({ code: 'AUTH.INVALID' }),
    );
  });

  it('never selects the token-carrying sub-protocol', () => {
    expect(selectWebSocketProtocol(new Set(['parley.v1', 'bearer.a.b.c']))).toBe('parley.v1');
    expect(selectWebSocketProtocol(new Set(['bearer.a.b.c']))).toBe(false);
  });
});
