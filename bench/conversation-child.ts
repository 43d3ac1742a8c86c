/**
 * One configuration of the conversation-quality benchmark (bench/conversation.ts) in a child
 * process of its own: a fresh embedded database, one voice session, the scenarios in order,
 * each observation sent back as it comes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/client.js';
import { runScenario } from '../tests/conversation/quality/run.js';
import type { Scenario } from '../tests/conversation/quality/scenarios.js';
import {
  type QualityConfig,
  type QualityTuning,
  startQualitySession,
} from '../tests/conversation/quality/session.js';
import { isBenchChild } from './child.js';

/** What the parent asks a child to run. */
export interface ConversationJob {
  config: QualityConfig;
  tuning: QualityTuning;
  scenarios: Scenario[];
}

async function runJob(job: ConversationJob): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bench-conversation-'));
  const database = await openDatabase({ dataDir });
  try {
    await database.migrate();
    const session = await startQualitySession(database.db, job.config, job.tuning);
    for (const scenario of job.scenarios) {
      process.send?.({ observation: await runScenario(database.db, session, scenario) });
    }
    await session.harness.close();
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  process.send?.({ done: true });
}

if (isBenchChild()) {
  process.once('message', (message) => {
    void runJob(message as ConversationJob).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`bench: conversation child failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
