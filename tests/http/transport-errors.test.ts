import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.js';

/**
 * Requests that fail before any route runs (Node's HTTP parser, Fastify's URL decoding, a
 * client too slow to send its request) answer in the API's one error shape, over a real
 * socket: `inject` skips the parser.
 */
let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await startTestApp({ embeddedAuth: {}, env: { REQUEST_TIMEOUT_MS: '1000' } });
  port = Number(new URL(await t.listen()).port);
});
afterAll(() => t.close());

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** A server that keeps a connection this long has not cut it off. */
const GIVE_UP_MS = 30_000;

/** Sends raw bytes and reads until the server closes the connection. */
function raw(write: (socket: Socket) => void): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const giveUp = setTimeout(() => {
      reject(new Error('the server kept the connection open'));
      socket.destroy();
    }, GIVE_UP_MS);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      const match = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      if (match === null) {
        reject(new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ status: Number(match[1]), headers: match[2] ?? '', body: match[3] ?? '' });
    });
    socket.on('connect', () => write(socket));
  });
}

function expectErrorShape(response: RawResponse, code: string): void {
  expect(response.headers.toLowerCase()).toContain('content-type: application/json');
  const body = JSON.parse(response.body);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

describe('errors before the route', () => {
  it('a URL that does not decode is 400 in the error shape', async () => {
    const response = await t.app.inject({ url: '/%c0%ae' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'REQUEST.INVALID', message: expect.any(String) },
    });
  });

  it('oversized headers are 431 in the error shape', async () => {
    const response = await raw((socket) => {
      socket.end(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    expect(response.status).toBe(431);
    expectErrorShape(response, 'REQUEST.TOO_LARGE');
  });

  it('a control character in a header is 400 in the error shape', async () => {
    const response = await raw((socket) => {
      socket.end('GET /health HTTP/1.1\r\nHost: x\r\nX-Odd: a\u0001b\r\n\r\n');
    });
    expect(response.status).toBe(400);
    expectErrorShape(response, 'REQUEST.INVALID');
  });

  it('a body that trickles in is cut off with 408 in the error shape', {
    timeout: 60_000,
  }, async () => {
    let timer: NodeJS.Timeout | undefined;
    const response = await raw((socket) => {
      socket.write(
        'POST /auth/dev/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 1000\r\n\r\n',
      );
      // One byte every 100 ms: 100 s for the whole body, were it not cut off.
      timer = setInterval(() => {
        if (socket.writable) socket.write(' ');
      }, 100);
      socket.on('close', () => clearInterval(timer));
    });
    clearInterval(timer);
    expect(response.status).toBe(408);
    expectErrorShape(response, 'REQUEST.TIMEOUT');
  });
});
