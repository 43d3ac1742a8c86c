import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClaimGrants, TokenVerifier } from 'livekit-server-sdk';
import type { AgentDispatches } from './agent-dispatches.js';
import { JOB_REPORT_PATH, type JobReport, parseJobReport } from './job-report.js';
import { answerValidate, bearerToken } from './room-join.js';

/** What the plain HTTP endpoints of the fake server act on. */
export interface HttpRoutes {
  verifier: TokenVerifier;
  dispatches: AgentDispatches;
  /** Whether rooms are served on `/rtc` (then `/rtc/v1` is not found, as on an older server). */
  servesRooms: boolean;
  receiveReport(report: JobReport): void;
}

const DISPATCH_SERVICE = '/twirp/livekit.AgentDispatchService/';
const MAX_BODY_BYTES = 1_048_576;

/**
 * The fake server's HTTP endpoints: the SDK's `/rtc/validate` probe after a refused join,
 * LiveKit's `AgentDispatchService` over Twirp JSON, and the fake-only job report endpoint.
 */
export async function routeHttp(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  routes: HttpRoutes,
): Promise<void> {
  if (request.method === 'GET' && /^\/rtc(\/v1)?\/validate$/.test(url.pathname)) {
    // A browser's SDK reads this from the page's origin: without CORS it sees no status.
    response.setHeader('access-control-allow-origin', '*');
    // livekit-client falls back from `/rtc/v1` to `/rtc` only when this probe says 404.
    if (routes.servesRooms && url.pathname === '/rtc/v1/validate') {
      return sendText(response, 404, 'use /rtc');
    }
    return answerValidate(request, response, url, routes.verifier);
  }
  if (request.method === 'POST' && url.pathname === JOB_REPORT_PATH) {
    const body = await readBody(request);
    const report = body === undefined ? undefined : parseJobReport(body);
    if (report === undefined) return sendText(response, 400, 'not a job report');
    routes.receiveReport(report);
    response.writeHead(204).end();
    return;
  }
  if (request.method === 'POST' && url.pathname.startsWith(DISPATCH_SERVICE)) {
    const token = bearerToken(request, url);
    const claims: ClaimGrants | undefined =
      token === undefined ? undefined : await routes.verifier.verify(token).catch(() => undefined);
    const body = parseJson(await readBody(request));
    const method = url.pathname.slice(DISPATCH_SERVICE.length);
    const reply = routes.dispatches.serve(method, body, claims);
    response.writeHead(reply.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(reply.body));
    return;
  }
  sendText(response, 404, 'not found');
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain' }).end(text);
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/** The request body as text; `undefined` when it is over 1 MiB. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
