/**
 * What a request log line says about the request. Fastify's default logs the whole URL, so a
 * token a client put in the query string (refused, but sent) ended up in the info log.
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Query parameters whose values are credentials, or may be. */
const SECRET_PARAMETER = /token|key|secret|password|passwd|jwt|auth|session|signature|code/i;
const REDACTED = '[redacted]';

/** The URL with the value of every credential-like query parameter replaced. */
export function urlForLog(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0] ?? '';
      return SECRET_PARAMETER.test(safeDecode(name)) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Fastify's `req` serializer, with {@link urlForLog}. */
export function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: urlForLog(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** Fastify's `childLoggerFactory`: each request's logger serializes `req` as above. */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) =>
  logger.child(bindings, {
    ...options,
    serializers: { ...options.serializers, req: requestForLog },
  });
