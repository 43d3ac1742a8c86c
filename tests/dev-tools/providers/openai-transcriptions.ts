import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AudioContainer, sniffAudio } from './audio-sniff.js';
import { clientGone, pause, readBody, sendJson, words } from './http.js';
import { requestId, sendInvalidRequest } from './openai-errors.js';

/** A parsed `POST /v1/audio/transcriptions` form, as logged in `requests.transcriptions`. */
export interface TranscriptionRequest {
  model: string;
  language: string | undefined;
  prompt: string | undefined;
  responseFormat: string;
  temperature: number | undefined;
  file: { name: string; type: string; bytes: number; container: AudioContainer };
}

/** What the transcription handler needs from the emulator. */
export interface TranscriptionScript {
  sttLatencyMs: number;
  /** The transcript for this audio (queue first, then the `transcribe` option, then a default). */
  nextTranscript(audio: Buffer, model: string): Promise<string>;
  log(request: TranscriptionRequest): void;
  /** Answers with an injected failure instead, when one is queued; says whether it did. */
  injectFailure(res: ServerResponse): boolean;
}

const RESPONSE_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'];
const LANGUAGE_NAMES: Record<string, string> = {
  en: 'english',
  de: 'german',
  fr: 'french',
  es: 'spanish',
  it: 'italian',
  nl: 'dutch',
  pt: 'portuguese',
};

/** Parses the multipart form with the platform's own parser (undici), as a server would. */
async function readForm(req: IncomingMessage): Promise<FormData | undefined> {
  const body = await readBody(req);
  try {
    const request = new Request('http://emulator.invalid/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: new Uint8Array(body),
    });
    return await request.formData();
  } catch {
    return undefined;
  }
}

function optionalText(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Answers a transcription upload: validates it like OpenAI, then replies in the format asked. */
export async function answerTranscription(
  req: IncomingMessage,
  res: ServerResponse,
  script: TranscriptionScript,
): Promise<void> {
  const form = await readForm(req);
  if (form === undefined) return sendInvalidRequest(res, 'Could not parse multipart form');
  const file = form.get('file');
  const model = optionalText(form, 'model');
  if (!(file instanceof File)) {
    return sendInvalidRequest(res, "Missing required parameter: 'file'.", 'file');
  }
  if (model === undefined) {
    return sendInvalidRequest(res, "Missing required parameter: 'model'.", 'model');
  }
  const responseFormat = optionalText(form, 'response_format') ?? 'json';
  const problem = formatProblem(model, responseFormat, optionalText(form, 'stream'));
  if (problem !== undefined) return sendInvalidRequest(res, problem, 'response_format');
  const audio = Buffer.from(await file.arrayBuffer());
  const sniffed = sniffAudio(audio);
  if (sniffed === undefined) {
    return sendInvalidRequest(
      res,
      "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
      'file',
      'invalid_value',
    );
  }
  if (sniffed.durationSec !== undefined && sniffed.durationSec < 0.1) {
    return sendInvalidRequest(
      res,
      'Audio file is too short. Minimum audio length is 0.1 seconds.',
      'file',
      'audio_too_short',
    );
  }
  const temperature = optionalText(form, 'temperature');
  const request: TranscriptionRequest = {
    model,
    language: optionalText(form, 'language'),
    prompt: optionalText(form, 'prompt'),
    responseFormat,
    temperature: temperature === undefined ? undefined : Number(temperature),
    file: { name: file.name, type: file.type, bytes: audio.length, container: sniffed.container },
  };
  script.log(request);
  if (script.injectFailure(res)) return;
  const signal = clientGone(res);
  const text = await script.nextTranscript(audio, model);
  if (!(await pause(script.sttLatencyMs, signal))) return;
  sendTranscript(res, request, text, sniffed.durationSec ?? 0);
}

function formatProblem(
  model: string,
  format: string,
  stream: string | undefined,
): string | undefined {
  if (stream === 'true') return 'The emulator does not implement streamed transcriptions.';
  if (!RESPONSE_FORMATS.includes(format)) {
    return `Invalid value: '${format}'. Supported values are: ${RESPONSE_FORMATS.map((f) => `'${f}'`).join(', ')}.`;
  }
  if (!model.startsWith('whisper') && format !== 'json' && format !== 'text') {
    return `response_format '${format}' is not compatible with model '${model}'. Use 'json' or 'text' instead.`;
  }
  return undefined;
}

function usageFor(model: string, text: string, durationSec: number): object {
  if (model.startsWith('whisper')) return { type: 'duration', seconds: Math.ceil(durationSec) };
  const audioTokens = Math.ceil(durationSec * 10);
  const outputTokens = words(text).length;
  return {
    type: 'tokens',
    input_tokens: audioTokens,
    input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
    output_tokens: outputTokens,
    total_tokens: audioTokens + outputTokens,
  };
}

function sendTranscript(
  res: ServerResponse,
  request: TranscriptionRequest,
  text: string,
  durationSec: number,
): void {
  const headers = { 'x-request-id': requestId() };
  const usage = usageFor(request.model, text, durationSec);
  if (request.responseFormat === 'json') {
    sendJson(res, 200, { text, usage }, headers);
  } else if (request.responseFormat === 'verbose_json') {
    sendJson(res, 200, verboseJson(request, text, durationSec, usage), headers);
  } else {
    const [body, contentType] = textBody(request.responseFormat, text, durationSec);
    res.writeHead(200, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  }
}

/** The body and content type of the plain-text formats: `text`, `srt`, `vtt`. */
function textBody(format: string, text: string, durationSec: number): [string, string] {
  if (format === 'srt') {
    const cue = `00:00:00,000 --> ${clock(durationSec, ',')}`;
    return [`1\n${cue}\n${text}\n\n`, 'text/plain; charset=utf-8'];
  }
  if (format === 'vtt') {
    const cue = `00:00:00.000 --> ${clock(durationSec, '.')}`;
    return [`WEBVTT\n\n${cue}\n${text}\n\n`, 'text/vtt; charset=utf-8'];
  }
  return [`${text}\n`, 'text/plain; charset=utf-8'];
}

function verboseJson(request: TranscriptionRequest, text: string, duration: number, usage: object) {
  const code = request.language ?? 'en';
  return {
    task: 'transcribe',
    language: LANGUAGE_NAMES[code] ?? code,
    duration,
    text,
    segments: [
      {
        id: 0,
        seek: 0,
        start: 0,
        end: duration,
        text: ` ${text}`,
        tokens: [],
        temperature: request.temperature ?? 0,
        avg_logprob: -0.2,
        compression_ratio: 1,
        no_speech_prob: 0.01,
      },
    ],
    usage,
  };
}

/** `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (VTT). */
function clock(seconds: number, separator: string): string {
  const ms = Math.round(seconds * 1000);
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${separator}${pad(ms % 1000, 3)}`;
}
