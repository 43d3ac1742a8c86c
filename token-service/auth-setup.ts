import type { Config } from '../core/config.js';
import type { AuthDeps } from './app-deps.js';
import { devSessionsAllowed, localVerifierOptions, openLocalIssuer } from './auth/local-issuer.js';
import { createAccessTokenVerifier, supabaseVerifierOptions } from './auth/verifier.js';

export type AuthConfig = Pick<Config, 'auth' | 'http' | 'dataDir'>;

/** The address tokens of the embedded issuer name: the public URL, else where we listen. */
export function serverBaseUrl(config: Pick<Config, 'http'>): string {
  const { publicUrl, host, port } = config.http;
  if (publicUrl !== undefined) return publicUrl;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${port}`;
}

/**
 * How this server checks callers: against the Supabase project when `SUPABASE_URL` is set,
 * otherwise as its own issuer, with a key kept in the data directory and dev sessions on
 * loopback (or where the operator opted in).
 */
export async function createAuth(config: AuthConfig): Promise<AuthDeps> {
  const { auth } = config;
  if (auth.supabaseUrl !== undefined) {
    const options = supabaseVerifierOptions({
      supabaseUrl: auth.supabaseUrl,
      supabaseJwtSecret: auth.supabaseJwtSecret,
      jwksCacheMs: auth.jwksCacheMs,
    });
    return { verifier: createAccessTokenVerifier(options), devSessionsEnabled: false };
  }
  const localIssuer = await openLocalIssuer({
    dataDir: config.dataDir,
    issuerBaseUrl: serverBaseUrl(config),
    sessionTtlMs: auth.devSessionTtlMs,
  });
  return {
    verifier: createAccessTokenVerifier(localVerifierOptions(localIssuer)),
    localIssuer,
    devSessionsEnabled: devSessionsAllowed(
      config.http.host,
      auth.allowDevSessions,
      config.http.publicUrl,
    ),
    devSessionsFromAnyCaller: auth.allowDevSessions,
  };
}
