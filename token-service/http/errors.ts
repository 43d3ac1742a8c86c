/**
 * The one place HTTP turns failures into responses: every error becomes an {@link AppError},
 * its code picks the status, and the body is always `{"error": {"code", "message"}}`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, type ErrorCode, isAppError } from '../../core/errors.js';

/** The HTTP status of every error code. A new code does not compile until it is listed here. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  'AUTH.MISSING': 401,
  'AUTH.INVALID': 401,
  'AUTH.UNAVAILABLE': 503,
  'AUTH.DEV_SESSIONS_DISABLED': 403,
  'REQUEST.INVALID': 400,
  'REQUEST.TOO_LARGE': 413,
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 415,
  'REQUEST.RATE_LIMITED': 429,
  'REQUEST.TIMEOUT': 408,
  'ROUTE.NOT_FOUND': 404,
  'ROOM.FORBIDDEN': 403,
  'ROOM.NOT_FOUND': 404,
  'CHARACTER.NOT_FOUND': 404,
  'CHARACTER.FORBIDDEN': 403,
  'CHARACTER.UNAVAILABLE': 403,
  'DOCUMENT.NOT_FOUND': 404,
  'MEMORY.NOT_FOUND': 404,
  'VOICE.NOT_FOUND': 404,
  'VOICE.CLIP_FORMAT': 415,
  'VOICE.CLIP_TOO_SHORT': 422,
  'VOICE.CLIP_TOO_LONG': 422,
  'VOICE.TOO_MANY': 409,
  'DOCUMENT.UNREADABLE': 422,
  'PICTURE.UNREADABLE': 422,
  'SESSION.NOT_FOUND': 404,
  'SESSION.FORBIDDEN': 403,
  'SESSION.UNAVAILABLE': 503,
  'SESSION.TOO_MANY': 429,
  'LIVEKIT.NOT_CONFIGURED': 503,
  'PROVIDER.UNAVAILABLE': 503,
  'PROVIDER.NOT_CONFIGURED': 503,
  'PROVIDER.FAILED': 502,
  'DATABASE.UNAVAILABLE': 503,
  'CONFIG.INVALID': 500,
  INTERNAL: 500,
};

/** One field that failed validation. */
export interface FieldProblem {
  /** `body`, `querystring`, `params` or `headers`. */
  in: string;
  /** Dotted path inside it, e.g. `room_config.agents`; empty for the whole part. */
  field: string;
  message: string;
}

/** The error body of every failed request, for OpenAPI. */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'ROOM.FORBIDDEN' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof errorResponseSchema>;

/** The standard error responses, to spread into a route's `response` schema. */
export const errorResponses = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  429: errorResponseSchema,
  503: errorResponseSchema,
};

/**
 * Server-side codes that are the operator's setup, not a fault: they answer 5xx but are
 * logged as a refusal, without a stack trace, since nothing failed.
 */
const NOT_A_FAULT: ReadonlySet<ErrorCode> = new Set([
  'PROVIDER.NOT_CONFIGURED',
  'LIVEKIT.NOT_CONFIGURED',
]);

/** Whether an error is worth an error log line with its stack (a server fault). */
export function isServerFault(error: AppError): boolean {
  return HTTP_STATUS[error.code] >= 500 && !NOT_A_FAULT.has(error.code);
}

export function errorBody(error: AppError): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.details !== undefined) body.error.details = error.details;
  return body;
}

/** Turns anything thrown during a request into the AppError the client will see. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  if (hasZodFastifySchemaValidationErrors(error)) return validationError(error);
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('REQUEST.TOO_LARGE', 'The request body is too large', { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json', {
        cause: error,
      });
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500 && typeof fastifyError.message === 'string') {
    // Fastify's own 4xx messages (bad JSON, empty body) describe the request, not the server.
    return new AppError('REQUEST.INVALID', fastifyError.message, { cause: error });
  }
  return new AppError('INTERNAL', 'Something went wrong on our side', { cause: error });
}

function validationError(error: FastifyError): AppError {
  const part = error.validationContext ?? 'body';
  const details: FieldProblem[] = (error.validation ?? []).map((issue) => ({
    in: part,
    field: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
    message: issue.message ?? 'is invalid',
  }));
  const summary = details.map((d) => (d.field === '' ? d.message : `${d.field}: ${d.message}`));
  return new AppError('REQUEST.INVALID', `Invalid ${part}: ${summary.join('; ')}`, {
    cause: error,
    details,
  });
}

/** Fastify's error handler: maps, logs once, answers. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(error);
  const status = HTTP_STATUS[appError.code];
  if (isServerFault(appError)) {
    request.log.error({ err: error, code: appError.code }, 'request failed');
  } else {
    request.log.info({ code: appError.code }, 'request refused');
  }
  if (appError.code === 'AUTH.INVALID' || appError.code === 'AUTH.MISSING') {
    reply.header('www-authenticate', 'Bearer');
  }
  return reply.status(status).send(errorBody(appError));
}

/** Fastify's not-found handler: unknown routes answer in the same shape. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  const error = new AppError('ROUTE.NOT_FOUND', `No route ${request.method} ${request.url}`);
  return reply.status(404).send(errorBody(error));
}
