/**
 * Messages between the main thread and the thread that owns the embedded database. Values
 * cross by structured clone, so only data travels: result parsers are named by type OID.
 */

export type RowMode = 'array' | 'object';

export type Request =
  | {
      kind: 'query';
      sql: string;
      params: unknown[];
      rowMode: RowMode;
      /** Types whose values stay text (drizzle parses dates, timestamps and intervals itself). */
      textTypes: number[];
      /** The open transaction to run in; none = outside any transaction. */
      tx?: number;
    }
  | { kind: 'begin' }
  | { kind: 'end'; tx: number; commit: boolean }
  | { kind: 'close' };

export type Envelope = Request & { id: number };

export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };

/** What the thread posts once, after opening the database (or failing to). */
export type Ready = { ready: true } | { ready: false; error: SerializedError };

/** An error's message and its data fields (SQLSTATE `code`, `detail`, `constraint`, ...). */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: SerializedError['fields'] = {};
  for (const [key, value] of Object.entries(error)) {
    if (['string', 'number', 'boolean'].includes(typeof value)) {
      fields[key] = value as string | number | boolean;
    }
  }
  return { name: error.name, message: error.message, fields };
}

/** An `Error` that carries the same fields, so callers read `error.code` as before. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  return Object.assign(error, serialized.fields);
}
