/** The sessions benchmark's rows and notes, from what each step measured. */
import type { ResultRow } from './report.js';
import type { Turn } from './sessions-callers.js';
import type { ServerUsage } from './sessions-server.js';
import { fmt, p50p95, summarize } from './stats.js';

/** What one step (a number of calls held at once) measured. */
export interface Step {
  calls: number;
  /** Server CPU milliseconds per second of wall clock. */
  idleCpu: number;
  talkCpu: number;
  memory: ServerUsage;
  /** Read right after the conversations: `calls` is how many were still up. */
  talkUsage: ServerUsage;
  turns: Turn[];
  /** Server CPU per thread group over the conversation window, ms per second. */
  threads: Map<string, number>;
  /** Load processes' and providers' CPU over the conversation window, ms per second. */
  loadCpu: number;
  providersCpu: number;
}

export interface Baseline {
  /** Server CPU ms per second with no calls. */
  cpu: number;
  memory: ServerUsage;
}

/** The target. */
export const TARGET_PER_CORE = 15;
/** A step counts only if this share of its questions got a reply and no call dropped. */
const HEALTHY_SHARE = 0.9;

/** CPU per call over the no-call baseline, ms per second. */
export function perCall(cpu: number, baseline: Baseline, calls: number): number {
  return (cpu - baseline.cpu) / calls;
}

export function latencies(turns: Turn[]): number[] {
  return turns.flatMap((t) => (t.latencyMs === undefined ? [] : [t.latencyMs]));
}

/**
 * Whether the server kept up: nearly every question answered and every call still up. A
 * server that cannot keep up does less work than its calls need (audio queues, replies never
 * come), so its CPU per call says nothing about what a call costs.
 */
export function healthy(step: Step): boolean {
  const answered = latencies(step.turns).length;
  return (
    step.turns.length > 0 &&
    answered >= HEALTHY_SHARE * step.turns.length &&
    step.talkUsage.calls === step.calls
  );
}

function levelRow(step: Step, baseline: Baseline): ResultRow {
  const idle = perCall(step.idleCpu, baseline, step.calls);
  const talking = perCall(step.talkCpu, baseline, step.calls);
  const answered = latencies(step.turns).length;
  return {
    metric: `${step.calls} calls: server CPU listening / conversing (per call); answered; calls up`,
    value:
      `${fmt(step.idleCpu)} / ${fmt(step.talkCpu)} ms/s (${fmt(idle)} / ${fmt(talking)} per ` +
      `call); ${answered}/${step.turns.length}; ${step.talkUsage.calls}/${step.calls}` +
      (healthy(step) ? '' : ' (did not keep up)'),
  };
}

/** Every row: one per step, then the figures the issue asks for. */
export function sessionRows(baseline: Baseline, steps: Step[]): ResultRow[] {
  const rows: ResultRow[] = [
    { metric: 'server CPU with no calls', value: `${fmt(baseline.cpu)} ms/s` },
    ...steps.map((step) => levelRow(step, baseline)),
  ];
  const first = steps[0];
  const top = steps.at(-1);
  if (first === undefined || top === undefined) return rows;
  // The per-call figure comes from the most calls the server still served properly.
  const best = steps.filter(healthy).at(-1);
  // Health and latency at that step too: past it, the step rows say how the server fell behind.
  return [...rows, perCoreRow(baseline, best), ...healthRows(baseline, first, best ?? top)];
}

function perCoreRow(baseline: Baseline, best: Step | undefined): ResultRow {
  if (best === undefined) {
    return {
      metric: 'conversing sessions one core holds',
      value: 'no step kept up (see the rows above)',
      target: `>= ${TARGET_PER_CORE}`,
      met: false,
    };
  }
  const talking = perCall(best.talkCpu, baseline, best.calls);
  const listening = perCall(best.idleCpu, baseline, best.calls);
  const perCore = 1000 / talking;
  return {
    metric:
      `conversing sessions one core holds: 1000 / CPU per call at ${best.calls} calls ` +
      '(the most calls served with >= 90% answered)',
    value: `${fmt(perCore)} (listening only: ${fmt(1000 / listening)})`,
    target: `>= ${TARGET_PER_CORE}`,
    met: perCore >= TARGET_PER_CORE,
  };
}

function healthRows(baseline: Baseline, first: Step, top: Step): ResultRow[] {
  const answered = latencies(top.turns).length;
  const mib = (bytes: number) => fmt(bytes / top.calls / 2 ** 20);
  return [
    {
      metric: `memory per call at ${top.calls} calls (RSS / JS heap over no calls, after GC)`,
      value:
        `${mib(top.memory.rss - baseline.memory.rss)} / ` +
        `${mib(top.memory.heapUsed - baseline.memory.heapUsed)} MiB`,
    },
    {
      metric: `questions answered at ${top.calls} calls`,
      value: `${answered} / ${top.turns.length}`,
      target: 'all',
      met: answered === top.turns.length && answered > 0,
    },
    {
      metric: `end of question -> first reply packet p50 / p95, ${first.calls} call vs ${top.calls} calls`,
      value:
        `${p50p95(summarize(latencies(first.turns)), 'ms')} vs ` +
        `${p50p95(summarize(latencies(top.turns)), 'ms')}`,
    },
    {
      metric: `server event loop delay p99 / max while ${top.calls} calls converse`,
      value: `${fmt(top.talkUsage.loopDelayP99Ms)} / ${fmt(top.talkUsage.loopDelayMaxMs)} ms`,
    },
  ];
}

/** Memory still held once every call has ended, per call that was made. */
export function retainedRow(baseline: Baseline, after: ServerUsage, steps: Step[]): ResultRow {
  const made = steps.at(-1)?.calls ?? 0;
  const mib = (bytes: number) => fmt(bytes / Math.max(1, made) / 2 ** 20);
  return {
    metric: `memory still held after all ${made} calls ended (${after.calls} running), per call made`,
    value:
      `${mib(after.rss - baseline.memory.rss)} / ` +
      `${mib(after.heapUsed - baseline.memory.heapUsed)} MiB (RSS / JS heap)`,
  };
}

/** Server CPU per thread group, busiest first. */
export function threadLine(step: Step): string {
  return [...step.threads]
    .sort((a, b) => b[1] - a[1])
    .filter(([, ms]) => ms >= 1)
    .map(([name, ms]) => `${name} ${fmt(ms)}`)
    .join(', ');
}
