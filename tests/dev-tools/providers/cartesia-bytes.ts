import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  type CartesiaTiming,
  chunkSamples,
  encodePcm,
  outputFormatSchema,
  type Speak,
  speakAt,
  voiceSchema,
  wavHeader,
} from './cartesia-audio.js';
import { type CartesiaProblem, httpErrorBody, problem } from './cartesia-protocol.js';
import { clientGone, pause, readBody } from './http.js';

/** A `POST /tts/bytes` body; fields the emulator ignores are kept as sent. */
export const bytesRequestSchema = z.looseObject({
  model_id: z.string().min(1),
  transcript: z.string().refine((text) => text.trim() !== '', { message: 'must not be empty' }),
  voice: voiceSchema,
  output_format: outputFormatSchema,
  language: z.string().optional(),
});

export type BytesRequest = z.infer<typeof bytesRequestSchema>;

/** What the bytes handler needs from the emulator. */
export interface BytesDeps {
  timing: CartesiaTiming;
  speak: Speak;
  version: string | undefined;
  log(request: BytesRequest): void;
}

/** Sends a Cartesia HTTP error in the shape the client's API version expects. */
export function sendCartesiaError(
  res: ServerResponse,
  found: CartesiaProblem,
  version: string | undefined,
): void {
  const { contentType, body } = httpErrorBody(found, version);
  res.writeHead(found.status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

type Parsed = { request: BytesRequest } | { problem: CartesiaProblem };

async function parseRequest(req: IncomingMessage): Promise<Parsed> {
  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    return { problem: problem(400, 'Invalid JSON', 'The request body is not valid JSON.', null) };
  }
  const parsed = bytesRequestSchema.safeParse(body);
  if (parsed.success) return { request: parsed.data };
  const issue = parsed.error.issues[0];
  const detail = `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
  return { problem: problem(400, 'Invalid request', detail, 'invalid_request') };
}

/**
 * Answers `POST /tts/bytes`: the whole utterance as one streamed body, raw PCM or WAV, sent
 * in `chunkMs` pieces after `ttfbMs`, as the real endpoint streams while it generates.
 */
export async function answerBytes(
  req: IncomingMessage,
  res: ServerResponse,
  deps: BytesDeps,
): Promise<void> {
  const parsed = await parseRequest(req);
  if ('problem' in parsed) {
    sendCartesiaError(res, parsed.problem, deps.version);
    return;
  }
  const { request } = parsed;
  deps.log(request);
  const signal = clientGone(res);
  if (!(await pause(deps.timing.ttfbMs, signal))) return;
  const { container, encoding, sample_rate: rate } = request.output_format;
  const samples = await speakAt(deps.speak, request.transcript, rate);
  const pcm = encodePcm(samples, encoding);
  const isWav = container === 'wav';
  res.writeHead(200, { 'content-type': isWav ? 'audio/wav' : 'application/octet-stream' });
  if (isWav) res.write(wavHeader(encoding, rate, pcm.length));
  const bytesPerSample = pcm.length / Math.max(1, samples.length);
  let offset = 0;
  for (const [index, chunk] of chunkSamples(samples, rate, deps.timing.chunkMs).entries()) {
    if (index > 0 && !(await pause(deps.timing.chunkIntervalMs, signal))) return;
    const length = chunk.length * bytesPerSample;
    res.write(pcm.subarray(offset, offset + length));
    offset += length;
  }
  res.end();
}
