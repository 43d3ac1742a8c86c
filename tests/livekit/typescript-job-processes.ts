import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Lets the job processes an agents `Worker` forks import a `.ts` agent file while the worker
 * runs inside vitest.
 *
 * A worker forks `job_proc_lazy_main.js` with the parent's `execArgv`, and the child
 * `import()`s the agent file. Under `tsx` (how Parley runs) that `execArgv` carries tsx's
 * loader; vitest's fork workers have none, so the child cannot load TypeScript. This adds
 * `--import tsx` to `NODE_OPTIONS`, which forked children inherit. Call it before
 * `worker.run()`; call the returned function to restore the previous value.
 */
export function loadTypeScriptInJobProcesses(): () => void {
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const previous = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = [previous, `--import=${loader}`].filter(Boolean).join(' ');
  return () => {
    if (previous === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = previous;
  };
}
