import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';

/**
 * Registers the rate limiter without limiting anything yet: routes opt in with
 * {@link perUserLimit}. It runs as a `preHandler`, after authentication, so a signed-in
 * caller is counted by user id wherever they connect from; others by IP address.
 */
export async function registerRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      new AppError('REQUEST.RATE_LIMITED', `Too many requests; retry in ${context.after}`, {
        details: { retry_after_seconds: Math.ceil(context.ttl / 1000) },
      }),
  });
}

export function rateLimitKey(request: FastifyRequest): string {
  return request.user ? `user:${request.user.id}` : `ip:${request.ip}`;
}

/** Route `config` for an endpoint allowed `perMinute` calls a minute per caller. */
export function perUserLimit(perMinute: number) {
  return { rateLimit: { max: perMinute, timeWindow: 60_000 } };
}
