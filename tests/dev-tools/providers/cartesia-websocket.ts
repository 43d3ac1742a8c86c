import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { z } from 'zod';
import {
  type CartesiaTiming,
  chunkSamples,
  encodePcm,
  estimateWordTimestamps,
  outputFormatSchema,
  type Speak,
  speakAt,
  voiceSchema,
} from './cartesia-audio.js';
import { type CartesiaProblem, problem, wsErrorEvent } from './cartesia-protocol.js';
import { pause } from './http.js';

/** A generation request on `/tts/websocket`; fields the emulator ignores are kept as sent. */
export const generationSchema = z.looseObject({
  model_id: z.string().min(1),
  transcript: z.string(),
  voice: voiceSchema,
  output_format: outputFormatSchema.extend({ container: z.literal('raw') }),
  context_id: z.string().min(1).optional(),
  continue: z.boolean().optional(),
  add_timestamps: z.boolean().optional(),
  flush: z.boolean().optional(),
  language: z.string().optional(),
});

export type GenerationRequest = z.infer<typeof generationSchema>;

/** What one connection needs from the emulator. */
export interface ConnectionDeps {
  timing: CartesiaTiming;
  speak: Speak;
  /** Cartesia-Version of this connection: it decides the error shape. */
  version: string | undefined;
  /** Every parsed client message, as sent. */
  log(message: unknown): void;
  /** Chunks after which to drop this connection, if a drop is pending (claimed once). */
  claimClose(): number | undefined;
}

interface Context {
  id: string;
  queue: Promise<void>;
  cancelled: boolean;
  startedAudio: boolean;
  offsetSec: number;
  flushId: number;
}

/**
 * Serves one `/tts/websocket` connection: generation requests grouped by `context_id`,
 * each context spoken in order (contexts run side by side), `continue: false` ends a
 * context with `done`, `cancel: true` silences it, `flush: true` answers `flush_done`.
 */
export function serveConnection(ws: WebSocket, deps: ConnectionDeps): void {
  const contexts = new Map<string, Context>();
  const send = (event: object) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(event));
  };
  const fail = (found: CartesiaProblem, contextId: string) =>
    send(wsErrorEvent(found, contextId, deps.version));

  ws.on('message', (raw) => {
    let message: unknown;
    try {
      message = JSON.parse(raw.toString());
    } catch {
      return fail(problem(400, 'Invalid JSON', 'The message is not valid JSON.', null), '');
    }
    deps.log(message);
    const cancel = z.looseObject({ context_id: z.string(), cancel: z.literal(true) });
    const cancelled = cancel.safeParse(message);
    if (cancelled.success) {
      const context = contexts.get(cancelled.data.context_id);
      if (context !== undefined) context.cancelled = true;
      contexts.delete(cancelled.data.context_id);
      return;
    }
    const parsed = generationSchema.safeParse(message);
    if (!parsed.success) {
      const contextId = (message as { context_id?: unknown }).context_id;
      const issue = parsed.error.issues[0];
      const detail = `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
      return fail(
        problem(400, 'Invalid request', detail, 'invalid_request'),
        String(contextId ?? ''),
      );
    }
    const request = parsed.data;
    const id = request.context_id ?? randomUUID();
    let context = contexts.get(id);
    if (context === undefined) {
      context = {
        id,
        queue: Promise.resolve(),
        cancelled: false,
        startedAudio: false,
        offsetSec: 0,
        flushId: 0,
      };
      contexts.set(id, context);
    }
    const current = context;
    current.queue = current.queue.then(() => generate(current, request));
  });

  async function generate(context: Context, request: GenerationRequest): Promise<void> {
    if (context.cancelled) return;
    if (request.transcript.trim() !== '') {
      const completed = await speakInto(context, request);
      if (!completed) {
        if (contexts.get(context.id) === context) contexts.delete(context.id);
        return;
      }
    }
    if (request.flush === true) {
      context.flushId += 1;
      send({
        type: 'flush_done',
        done: false,
        flush_done: true,
        flush_id: context.flushId,
        status_code: 206,
        context_id: context.id,
      });
    }
    if (request.continue !== true) {
      if (contexts.get(context.id) === context) contexts.delete(context.id);
      send({ type: 'done', done: true, status_code: 206, context_id: context.id });
    }
  }

  /** Speaks one transcript into its context; `false` when cancelled or the socket dropped. */
  async function speakInto(context: Context, request: GenerationRequest): Promise<boolean> {
    if (!context.startedAudio && !(await pause(deps.timing.ttfbMs))) return false;
    if (context.cancelled) return false;
    context.startedAudio = true;
    const rate = request.output_format.sample_rate;
    const started = performance.now();
    let samples: Int16Array;
    try {
      samples = await speakAt(deps.speak, request.transcript, rate);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      fail(problem(500, 'Synthesis failed', reason, 'internal_error'), context.id);
      return false;
    }
    const chunks = chunkSamples(samples, rate, deps.timing.chunkMs);
    const stepTime = Math.round((performance.now() - started) / Math.max(1, chunks.length));
    const closeAfter = deps.claimClose();
    for (const [index, chunk] of chunks.entries()) {
      if (context.cancelled || ws.readyState !== WebSocket.OPEN) return false;
      if (index === closeAfter) {
        ws.terminate();
        return false;
      }
      if (index > 0 && !(await pause(deps.timing.chunkIntervalMs))) return false;
      send({
        type: 'chunk',
        data: encodePcm(chunk, request.output_format.encoding).toString('base64'),
        done: false,
        status_code: 206,
        step_time: stepTime,
        context_id: context.id,
      });
      if (index === 0 && request.add_timestamps === true) {
        const durationSec = samples.length / rate;
        send({
          type: 'timestamps',
          done: false,
          status_code: 206,
          context_id: context.id,
          word_timestamps: estimateWordTimestamps(
            request.transcript,
            durationSec,
            context.offsetSec,
          ),
        });
      }
    }
    if (closeAfter !== undefined && closeAfter >= chunks.length) {
      ws.terminate();
      return false;
    }
    context.offsetSec += samples.length / rate;
    return !context.cancelled && ws.readyState === WebSocket.OPEN;
  }
}
