import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';

/** The local issuer's key pair; `publicJwk` is what the JWKS endpoint publishes. */
export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK & { kid: string; alg: 'ES256'; use: 'sig' };
}

const storedKeySchema = z.object({
  kid: z.string().min(1),
  alg: z.literal('ES256'),
  createdAt: z.string(),
  privateJwk: z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().min(1),
    y: z.string().min(1),
    d: z.string().min(1),
  }),
});

type StoredKey = z.infer<typeof storedKeySchema>;

/** Where the key lives inside the data directory. */
export function signingKeyPath(dataDir: string): string {
  return join(dataDir, 'auth', 'signing-key.json');
}

/**
 * Reads the local issuer's key from the data directory, creating it on first start. The file
 * holds a private key: mode 0600 in a 0700 directory. Two processes starting at once end up
 * with the same key, because the file only ever appears whole (written aside, then linked).
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const path = signingKeyPath(dataDir);
  const existing = await readStoredKey(path);
  if (existing !== undefined) return toSigningKey(existing, path);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const created = await generateStoredKey();
  const written = await publishOnce(path, created);
  return toSigningKey(written ? created : await requireStoredKey(path), path);
}

async function generateStoredKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const privateJwk = storedKeySchema.shape.privateJwk.parse(jwk);
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  return { kid, alg: 'ES256', createdAt: new Date().toISOString(), privateJwk };
}

/** Returns false when another process created the file first. */
async function publishOnce(path: string, key: StoredKey): Promise<boolean> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(aside, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(aside, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(aside);
  }
}

async function readStoredKey(path: string): Promise<StoredKey | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  // A key file others can read is a leaked key waiting to happen; close it up.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  try {
    return storedKeySchema.parse(JSON.parse(text));
  } catch (cause) {
    throw new AppError(
      'CONFIG.INVALID',
      `${path}: not a Parley signing key; move it away to create a new one`,
      { cause },
    );
  }
}

async function requireStoredKey(path: string): Promise<StoredKey> {
  const key = await readStoredKey(path);
  if (key === undefined) throw new AppError('INTERNAL', `${path}: vanished while starting`);
  return key;
}

async function toSigningKey(stored: StoredKey, path: string): Promise<SigningKey> {
  const { kty, crv, x, y } = stored.privateJwk;
  let privateKey: CryptoKey;
  try {
    const imported = await importJWK(stored.privateJwk, 'ES256');
    if (imported instanceof Uint8Array) throw new TypeError('expected an EC private key');
    privateKey = imported;
  } catch (cause) {
    throw new AppError('CONFIG.INVALID', `${path}: the key in it cannot be used`, { cause });
  }
  const publicJwk = { kty, crv, x, y, kid: stored.kid, alg: 'ES256', use: 'sig' } as const;
  return { kid: stored.kid, alg: 'ES256', privateKey, publicJwk };
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
