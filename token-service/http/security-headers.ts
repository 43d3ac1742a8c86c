/**
 * Browser security headers on every response (@fastify/helmet): a Content-Security-Policy
 * that lets the page load only its own scripts and styles and connect only to this server,
 * LiveKit and Supabase; no framing; no MIME sniffing; no referrer.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../app-deps.js';

/** Where the page may connect besides its own origin (WebSockets to it are covered by 'self'). */
function connectSources(config: AppConfig): string[] {
  const sources = ["'self'"];
  if (config.livekit.url !== undefined) {
    const livekit = new URL(config.livekit.url);
    sources.push(livekit.origin === 'null' ? config.livekit.url : livekit.origin);
    // livekit-client also calls the server over HTTP(S) on the same host.
    const http = new URL(config.livekit.url.replace(/^ws/, 'http'));
    sources.push(http.origin);
  }
  if (config.auth.supabaseUrl !== undefined) sources.push(new URL(config.auth.supabaseUrl).origin);
  return sources;
}

export async function registerSecurityHeaders(app: FastifyInstance, config: AppConfig) {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: connectSources(config),
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Plain HTTP on a LAN address is a supported setup: do not push browsers to HTTPS.
    strictTransportSecurity: false,
  });
}
