import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { AccessTokenVerifier, AuthUser } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller on routes behind {@link authPlugin}; null elsewhere. */
    user: AuthUser | null;
  }
}

/** The sub-protocol Parley's WebSocket chat speaks; the server always answers with it. */
export const PARLEY_WS_PROTOCOL = 'parley.v1';
/** Prefix of the sub-protocol entry that carries the access token. */
export const BEARER_PROTOCOL_PREFIX = 'bearer.';

/**
 * Reads the token from `Authorization: Bearer <token>`. Undefined when the header is absent;
 * throws `AUTH.INVALID` when it is there but is not a bearer token.
 */
export function bearerFromAuthorizationHeader(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^Bearer +([^\s]+) *$/i.exec(header.trim());
  if (match?.[1] === undefined) {
    throw new AppError('AUTH.INVALID', 'Authorization header must be "Bearer <token>"');
  }
  return match[1];
}

/**
 * Reads the token from a WebSocket handshake's `Sec-WebSocket-Protocol` header. Browsers cannot
 * set headers on a WebSocket, so the page offers two sub-protocols:
 *
 * ```ts
 * new WebSocket(url, ['parley.v1', `bearer.${accessToken}`]);
 * ```
 *
 * A JWT uses only characters a sub-protocol token allows (base64url and `.`). The server must
 * answer with `parley.v1` ({@link selectWebSocketProtocol}), never with the bearer entry, so
 * the token is not echoed back. Tokens in query strings are not accepted: URLs end up in logs.
 *
 * Returns undefined when no entry carries a token; throws `AUTH.INVALID` for an empty or
 * duplicated bearer entry.
 */
export function bearerFromProtocolHeader(
  header: string | string[] | undefined,
): string | undefined {
  if (header === undefined) return undefined;
  const entries = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.toLowerCase().startsWith(BEARER_PROTOCOL_PREFIX));
  if (entries.length === 0) return undefined;
  const token = entries[0]?.slice(BEARER_PROTOCOL_PREFIX.length);
  if (entries.length > 1 || token === undefined || token === '') {
    throw new AppError('AUTH.INVALID', 'Sec-WebSocket-Protocol must carry one bearer.<token>');
  }
  return token;
}

/**
 * For `ws`'s `handleProtocols` option (`@fastify/websocket`'s `options.handleProtocols`):
 * picks `parley.v1` when the client offered it, and never the token-carrying entry.
 */
export function selectWebSocketProtocol(protocols: Set<string>): string | false {
  return protocols.has(PARLEY_WS_PROTOCOL) ? PARLEY_WS_PROTOCOL : false;
}

function bearerFromRequest(request: FastifyRequest): string {
  const fromHeader = bearerFromAuthorizationHeader(request.headers.authorization);
  if (fromHeader !== undefined) return fromHeader;
  if (request.headers.upgrade?.toLowerCase() === 'websocket') {
    const fromProtocol = bearerFromProtocolHeader(request.headers['sec-websocket-protocol']);
    if (fromProtocol !== undefined) return fromProtocol;
  }
  throw new AppError('AUTH.MISSING', 'This endpoint needs an access token');
}

/**
 * An `onRequest` hook that verifies the caller's bearer token (the `Authorization` header, or
 * for a WebSocket handshake the `Sec-WebSocket-Protocol` entry) and sets `request.user`.
 * Throws `AUTH.MISSING` / `AUTH.INVALID` / `AUTH.UNAVAILABLE` for the error handler to map.
 */
export function authenticateBearer(verifier: AccessTokenVerifier) {
  return async function authenticateBearer(request: FastifyRequest): Promise<void> {
    request.user = await verifier.verify(bearerFromRequest(request));
  };
}

/** The user set by {@link authenticateBearer}; throws `AUTH.MISSING` on an unprotected route. */
export function requireUser(request: FastifyRequest): AuthUser {
  // Undefined too: a scope that never registered authPlugin has no `user` decoration.
  if (!request.user) throw new AppError('AUTH.MISSING', 'This endpoint needs a user');
  return request.user;
}

export interface AuthPluginOptions {
  verifier: AccessTokenVerifier;
}

/**
 * Protects every route registered in the same scope: register it inside the plugin that holds
 * the protected routes, and public routes (health, JWKS, dev session) outside it.
 *
 * ```ts
 * app.register(async (api) => {
 *   await api.register(authPlugin, { verifier });
 *   api.get('/api/me', async (request) => requireUser(request));
 * });
 * ```
 */
export const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (
  app: FastifyInstance,
  options: AuthPluginOptions,
) => {
  if (!app.hasRequestDecorator('user')) app.decorateRequest('user', null);
  app.addHook('onRequest', authenticateBearer(options.verifier));
};

// Like fastify-plugin: the hook applies to the scope that registers the plugin, not a child.
Object.assign(authPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'parley-auth',
});
