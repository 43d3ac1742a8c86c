/**
 * An embedding as the text of an int4 array of mantissas under one power-of-two scale: what
 * `vectorSql` sends, since neither PGlite nor a server then parses a decimal fraction.
 * Written digit by digit into one reused buffer: `map(Math.round).join(',')` took ~0.14 ms a
 * 1536-number vector on the event loop and left an array and 1,536 number strings behind
 * for the garbage collector, per chunk ingested; this takes about half the time and leaves one
 * string (`npx vitest run db/queries/vector-literal.test.ts` holds the two equal).
 */

/** Room for the largest vector this writes: 10 digits, a sign and a comma a component. */
let scratch = Buffer.allocUnsafe(1536 * 12 + 2);

/** Decimal digits of a non-negative integer below 2^31. */
function digitCount(n: number): number {
  if (n < 1e5) return n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : 5;
  return n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
}

/**
 * The exponent that puts the largest component just under 2^31 (so every mantissa fits an
 * int4), at most 126: 2^-126 is float32's smallest normal number.
 */
export function mantissaExponent(embedding: readonly number[]): number {
  let largest = 0;
  for (const x of embedding) largest = Math.max(largest, Math.abs(x));
  if (!Number.isFinite(largest)) throw new Error('an embedding component is not a finite number');
  return largest === 0 ? 0 : Math.min(126, 30 - Math.ceil(Math.log2(largest)));
}

/** `{m1,m2,...}` with m = round(x * 2^exponent), for `exponent` from `mantissaExponent`. */
export function mantissaArrayText(embedding: readonly number[], exponent: number): string {
  const scale = 2 ** exponent;
  if (scratch.length < embedding.length * 12 + 2)
    scratch = Buffer.allocUnsafe(embedding.length * 12 + 2);
  const out = scratch;
  let at = 0;
  out[at++] = 0x7b; // {
  for (let i = 0; i < embedding.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    let n = Math.round((embedding[i] as number) * scale);
    if (n < 0) {
      out[at++] = 0x2d; // -
      n = -n;
    }
    let end = at + digitCount(n);
    at = end;
    do {
      const tenth = (n / 10) | 0;
      out[--end] = 0x30 + n - tenth * 10;
      n = tenth;
    } while (n > 0);
  }
  out[at++] = 0x7d; // }
  return out.toString('latin1', 0, at);
}
