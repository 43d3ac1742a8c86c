/**
 * `npx tsx bench/profile-summary.ts FILE.cpuprofile [CALLS]`: where a V8 CPU profile's main-thread
 * time went, grouped by the parts of a voice call (the `sessions` section writes one with
 * `--sessions-profile=FILE`), in ms per wall-clock second and, given CALLS, per call-second.
 *
 * A sample is charged to the first group any frame of its stack belongs to (so `mergeFrames`
 * called from the VAD counts as `mergeFrames`, and Opus called from Parley's code as Opus);
 * a sample no such frame claims is charged by its innermost frame with a source file.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}
type Rule = [group: string, matches: (frame: CallFrame) => boolean];

/** Groups that claim a sample if any frame of its stack matches, first rule first. */
const STACK_RULES: Rule[] = [
  ['the profiler itself (inspector)', (f) => f.url === 'node:inspector'],
  ['mergeFrames', (f) => f.functionName === 'mergeFrames'],
  ['resampling', (f) => /resampl/i.test(f.functionName) || /resampl/i.test(f.url)],
  ['Opus encode/decode', (f) => f.url.includes('@evan/opus')],
  [
    'VAD (inference.VAD, SharedVAD)',
    (f) => /inference\/vad|local-inference|shared-vad/.test(f.url),
  ],
  ['transcript synchronizer', (f) => f.url.includes('transcription/synchronizer')],
  ['werift (SRTP, RTP, ICE, UDP)', (f) => f.url.includes('werift') || f.url === 'node:dgram'],
  ['STT/TTS/LLM plugins, HTTP', (f) => /agents-plugin|undici|node:http|node:net/.test(f.url)],
];

/** Groups for the innermost frame with a source file. */
const LEAF_RULES: Rule[] = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['(program): native, unattributed', (f) => f.functionName === '(program)'],
  ['web streams', (f) => f.url.includes('internal/webstreams')],
  ['AsyncLocalStorage / promise hooks', (f) => /async_hooks|async_local_storage/.test(f.url)],
  ['agents framework (other)', (f) => f.url.includes('@livekit/agents/')],
  ['timers', (f) => f.url.includes('internal/timers')],
  [
    'Parley',
    (f) => !f.url.includes('node_modules') && /\/(agent|core|db|token-service)\//.test(f.url),
  ],
  ['other Node internals', (f) => f.url.startsWith('node:')],
  ['other packages', (f) => f.url.includes('node_modules')],
];

function stackOf(id: number, nodes: Map<number, ProfileNode>, parents: Map<number, number>) {
  const frames: CallFrame[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const node = nodes.get(at);
    if (node !== undefined) frames.push(node.callFrame);
  }
  return frames;
}

function groupOf(frames: CallFrame[]): string {
  for (const [group, matches] of STACK_RULES) if (frames.some(matches)) return group;
  const first = frames[0];
  const leaf = first?.functionName.startsWith('(') ? first : frames.find((f) => f.url !== '');
  for (const [group, matches] of LEAF_RULES) if (leaf !== undefined && matches(leaf)) return group;
  return 'other';
}

/** Milliseconds of samples per group. */
export function summarize(profile: CpuProfile): { wallS: number; byGroup: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const byGroup = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const group = groupOf(stackOf(id, nodes, parents));
    byGroup.set(group, (byGroup.get(group) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return { wallS: (profile.endTime - profile.startTime) / 1e6, byGroup };
}

function main(): void {
  const [file, callsArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [CALLS]');
  const calls = Number(callsArg ?? 1);
  const { wallS, byGroup } = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const perS = (ms: number) => (ms / wallS).toFixed(1);
  const perCall = (ms: number) => (ms / wallS / calls).toFixed(2);
  console.log(`| where | ms/s (whole process) | ms per call-second (${calls} calls) |`);
  console.log('|---|---|---|');
  for (const [group, ms] of [...byGroup].sort((a, b) => b[1] - a[1])) {
    if (group === 'idle') continue;
    console.log(`| ${group} | ${perS(ms)} | ${perCall(ms)} |`);
  }
  const busy = [...byGroup].reduce((sum, [g, ms]) => (g === 'idle' ? sum : sum + ms), 0);
  console.log(`| main thread busy | ${perS(busy)} | ${perCall(busy)} |`);
}

main();
