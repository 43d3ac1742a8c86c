/**
 * PostgreSQL text cannot hold a NUL character (`\u0000`): a string with one fails at the
 * query as a server error, after the handler has started. So every request part and every
 * WebSocket frame is checked once, at the edge, before validation: one rule for every field,
 * including fields added later.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import type { FieldProblem } from './errors.js';

const NUL = '\u0000';
const MESSAGE = 'must not contain a NUL character';

/** The dotted path of the first string (value or key) in `value` holding a NUL, if any. */
export function fieldWithNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const innerPath = path === '' ? key : `${path}.${key}`;
    if (key.includes(NUL)) return innerPath;
    const found = fieldWithNul(inner, innerPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The one problem to report for a NUL in `value`, or undefined when there is none. */
export function nulProblem(part: string, value: unknown): FieldProblem | undefined {
  const field = fieldWithNul(value);
  return field === undefined ? undefined : { in: part, field, message: MESSAGE };
}

/**
 * A `preValidation` hook for the whole app: a NUL in the body, query string or path
 * parameters is `REQUEST.INVALID` (400) naming the field, like any other invalid field.
 */
export async function rejectNul(request: FastifyRequest): Promise<void> {
  const parts: [string, unknown][] = [
    ['body', request.body],
    ['querystring', request.query],
    ['params', request.params],
  ];
  for (const [part, value] of parts) {
    const problem = nulProblem(part, value);
    if (problem === undefined) continue;
    const where = problem.field === '' ? part : problem.field;
    throw new AppError('REQUEST.INVALID', `Invalid ${part}: ${where}: ${MESSAGE}`, {
      details: [problem],
    });
  }
}
