import { type ChatCompletionRequest, contentText } from './openai-chat.js';

/** The structured-output name Parley's memory distillation asks for (agent/memory/distill.ts). */
const MEMORY_SCHEMA_NAME = 'memories';

/** Whether the request asks for structured output under the memories schema. */
export function isMemoryRequest(request: ChatCompletionRequest): boolean {
  const format = request.response_format as
    | { type?: unknown; json_schema?: { name?: unknown } }
    | undefined;
  return format?.type === 'json_schema' && format.json_schema?.name === MEMORY_SCHEMA_NAME;
}

/**
 * A deterministic distillation, as a model would answer the structured request: each thing
 * the user stated (a `[id] user: text` line that is not a question) becomes one note citing
 * its message id, unless `<known_notes>` already holds it. The JSON matches the request's
 * schema, so the real SDK parses what it would parse from OpenAI.
 */
export function memoryReply(request: ChatCompletionRequest): string {
  const input = contentText(request.messages.findLast((m) => m.role === 'user')?.content);
  const known = new Set(
    [...input.matchAll(/^- (.+)$/gm)].map((match) => (match[1] ?? '').trim().toLowerCase()),
  );
  const memories = [];
  for (const match of input.matchAll(/^\[(\d+)\] user: (.+)$/gm)) {
    const said = (match[2] ?? '').trim();
    if (said === '' || said.endsWith('?')) continue;
    const text = `The user said: ${said}`;
    if (known.has(text.toLowerCase())) continue;
    memories.push({ text, message_ids: [Number(match[1])] });
  }
  return JSON.stringify({ memories });
}
