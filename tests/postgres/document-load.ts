import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiProcess } from './api-process.js';

export interface DocumentLoadOptions {
  /** Uploads alternate between these processes. */
  apis: ApiProcess[];
  /** The owner of `characterId`. */
  token: string;
  characterId: string;
  /** No more documents than this: the load ends by itself. */
  maxDocuments: number;
}

/** One upload and how it ended. */
export interface DocumentRun {
  id: string;
  status: 'pending' | 'ready' | 'failed';
  chunkCount: number;
  /** `performance.now()` when the upload was sent and when the load stopped polling it. */
  sentAt: number;
  settledAt: number;
}

/** Paragraphs that differ per document and per paragraph, so chunks and embeddings differ. */
function documentText(n: number): string {
  const paragraphs = Array.from(
    { length: 40 },
    (_, p) =>
      `Field note ${n}.${p}: the observer logged comet ${n * 41 + p} near star ${p * 7 + n}, ` +
      `its tail ${p + 3} degrees long, brighter than the night before by ${n + p} tenths. `.repeat(
        3,
      ),
  );
  return `# Log ${n}\n\n${paragraphs.join('\n\n')}`;
}

/**
 * Knowledge documents uploaded one after another through the API processes, each followed
 * until its ingestion settles: the embedding and chunk writes run next to the chat and voice
 * traffic, as an owner teaching a character does.
 */
export function startDocumentLoad(options: DocumentLoadOptions) {
  const runs: DocumentRun[] = [];
  let stopping = false;
  const headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
  const base = (api: ApiProcess) => `${api.base}/api/characters/${options.characterId}/documents`;
  const loop = (async () => {
    for (let n = 0; n < options.maxDocuments && !stopping; n++) {
      const api = options.apis[n % options.apis.length] as ApiProcess;
      const sentAt = performance.now();
      const body = { title: `Log ${n}`, content_type: 'text/markdown', content: documentText(n) };
      const response = await fetch(base(api), {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      }).catch(() => undefined);
      if (response?.status !== 202) {
        // Refused (the database restarting): nothing was acknowledged; try the next one.
        await sleep(500);
        continue;
      }
      const { id } = (await response.json()) as { id: string };
      runs.push(await settle(`${base(api)}/${id}`, headers, sentAt));
    }
  })();
  return {
    runs,
    /** Waits for the document in progress to settle, then returns every upload. */
    async stop(): Promise<DocumentRun[]> {
      stopping = true;
      await loop;
      return runs;
    },
  };
}

/** A document still pending after this is reported as pending (the sweep would take it later). */
const SETTLE_FOR_MS = 120_000;

async function settle(
  url: string,
  headers: Record<string, string>,
  sentAt: number,
): Promise<DocumentRun> {
  const pending = {
    id: url.slice(url.lastIndexOf('/') + 1),
    status: 'pending' as const,
    chunkCount: 0,
  };
  while (performance.now() - sentAt < SETTLE_FOR_MS) {
    const response = await fetch(url, { headers }).catch(() => undefined);
    if (response?.status === 200) {
      const doc = (await response.json()) as {
        id: string;
        status: DocumentRun['status'];
        chunk_count: number;
      };
      if (doc.status !== 'pending') {
        const settledAt = performance.now();
        return { id: doc.id, status: doc.status, chunkCount: doc.chunk_count, sentAt, settledAt };
      }
    }
    await sleep(200);
  }
  return { ...pending, sentAt, settledAt: performance.now() };
}
