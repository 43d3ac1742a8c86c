/**
 * Runs autocannon in a child process, so the load generator neither queues behind the server
 * it measures nor counts in the server process's CPU time. Each request carries the next
 * token of the pool.
 */
import autocannon, { type AutocannonResult } from 'autocannon';
import { forkModule, isBenchChild, nextMessage, stopChild } from './child.js';

export interface LoadPlan {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  /** JSON body, sent as is. */
  body?: string;
  /** Bearer tokens, used in turn. Empty: no Authorization header. */
  tokens: string[];
  connections: number;
  durationSec: number;
}

async function runPlan(plan: LoadPlan): Promise<AutocannonResult> {
  let next = 0;
  const headers: Record<string, string> =
    plan.body === undefined ? {} : { 'content-type': 'application/json' };
  return autocannon({
    url: plan.url,
    connections: plan.connections,
    duration: plan.durationSec,
    timeout: 10,
    requests: [
      {
        method: plan.method,
        path: plan.path,
        ...(plan.body === undefined ? {} : { body: plan.body }),
        setupRequest: (request) => {
          const token = plan.tokens[next++ % Math.max(1, plan.tokens.length)];
          const auth: Record<string, string> =
            token === undefined ? {} : { authorization: `Bearer ${token}` };
          return { ...request, headers: { ...headers, ...auth } };
        },
      },
    ],
  });
}

/** Runs one load plan in a child process and resolves with autocannon's result. */
export async function runLoad(plan: LoadPlan): Promise<AutocannonResult> {
  const child = forkModule(import.meta.url);
  try {
    const result = nextMessage<AutocannonResult>(child, () => true);
    child.send(plan);
    return await result;
  } finally {
    await stopChild(child);
  }
}

if (isBenchChild()) {
  process.once('message', (plan) => {
    void runPlan(plan as LoadPlan).then((result) => process.send?.(result));
  });
}
