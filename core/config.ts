import { z } from 'zod';
import { AppError } from './errors.js';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const url = z.url();
const optionalSecret = z.string().min(1).optional();

/**
 * Every environment variable Parley reads, with its default. This is the only place that
 * reads `process.env`; `.env.example` documents the same list.
 */

/**
 * Endpointing per turn-detection mode, when TURN_MIN_DELAY_MS / TURN_MAX_DELAY_MS are not set.
 * Tuned on the conversation-quality suite (tests/conversation/quality/, `npm run bench --
 * conversation`); the table is BENCHMARKS.md, section "conversation", rows "tuning", read in
 * bench/ANALYSIS.md. The rule (session 13): false cut-offs at most 5% of the suite's clean
 * turns, its three sets together (30 original, 30 held-out, 20 held-out 2; issue 14), then the
 * shortest wait; where the first reply audio is the same, the longer minimum.
 * - `text` (the default): VAD endpointing, but a transcript ending on an open clause ("and",
 *   "my number is", "um", a comma) waits the maximum, and one that may go on (a number, a month,
 *   a list; agent/voice/turn-cues.ts, English rules) {@link TURN_UNSURE_DELAY_DEFAULT_MS}.
 *   Min 600 ms (session 13, idle): cut 0 of 30 / 3 of 30 / 0 of 20 (4% together), wait p50
 *   ~660-670 ms, p95 ~2.1 s, first reply audio p50 ~1.0 s. The three cuts are the held-out
 *   "complete clause that goes on" at every pause length, which no text rule can see (the
 *   held-out set alone: 10%). 500 ms cut the same, with the same first audio; 800 ms cut 2,
 *   1,000 ms 1 (wait p50 ~1,060 ms).
 * - `vad`: silence only. It reaches the rule at 1,600 ms (0 of 30 cut in its own tuning run,
 *   2 of 30 under the heavier load of the latest; 800 ms cut 40%), the figure LiveKit's
 *   eot-bench gives for VAD-only: every reply starts ~600 ms later than with `text`.
 * - `model`: the on-device audio model reached the rule with no setting tried (best: 800 /
 *   3,000 ms, 7% cut, but a 3 s wait at p50: on these synthetic voices it judges most complete
 *   turns unfinished).
 */
export const TURN_DEFAULTS = {
  vad: { minDelayMs: 1_600, maxDelayMs: 3_000 },
  text: { minDelayMs: 600, maxDelayMs: 3_000 },
  model: { minDelayMs: 800, maxDelayMs: 3_000 },
} as const;

/**
 * `text` only: the wait after an ending that may or may not go on (a number, a month, a list;
 * agent/voice/turn-cues.ts `unsure`), when TURN_UNSURE_DELAY_MS is not set. Longer than the
 * suite's longest pause inside a number (1,200 ms) plus the ~0.4 s Silero takes to hear the
 * voice again; shorter than the maximum, as such a turn is often complete ("the PIN is eight
 * eight one zero").
 */
export const TURN_UNSURE_DELAY_DEFAULT_MS = 2_000;

const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8000),
  PUBLIC_URL: url.optional(),
  CORS_ORIGINS: z.string().default(''),
  BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  REQUEST_TIMEOUT_MS: positiveInt.min(1_000).default(30_000),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(60),

  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: positiveInt.default(10),

  SUPABASE_URL: url.optional(),
  SUPABASE_ANON_KEY: optionalSecret,
  SUPABASE_JWT_SECRET: optionalSecret,
  JWKS_CACHE_MS: positiveInt.max(20 * 60_000).default(10 * 60_000),
  ALLOW_DEV_SESSIONS: z.stringbool().default(false),
  DEV_SESSION_TTL_MS: positiveInt.default(60 * 60_000),

  LIVEKIT_URL: url.optional(),
  LIVEKIT_API_KEY: optionalSecret,
  LIVEKIT_API_SECRET: optionalSecret,
  LIVEKIT_AGENT_NAME: z.string().min(1).default('parley-character'),
  ROOM_TOKEN_TTL_MS: positiveInt.default(10 * 60_000),
  AGENT_HTTP_PORT: port.default(8081),
  AGENT_WORKER: z.enum(['auto', 'off']).default('auto'),
  AGENT_JOB_START_TIMEOUT_MS: positiveInt.min(1_000).max(600_000).default(30_000),
  DIRECT_MAX_CALLS: positiveInt.max(1_000).default(8),
  TURN_DETECTION: z.enum(['model', 'text', 'vad']).default('text'),
  TURN_MIN_DELAY_MS: positiveInt.max(10_000).optional(),
  TURN_MAX_DELAY_MS: positiveInt.max(30_000).optional(),
  TURN_UNSURE_DELAY_MS: positiveInt.max(30_000).optional(),
  TURN_MODEL_THRESHOLD: z.coerce.number().gt(0).lt(1).optional(),
  TURN_BACKCHANNELS: z.enum(['resume', 'interrupt']).default('resume'),
  TURN_RESUME_DELAY_MS: positiveInt.max(10_000).default(2_000),
  DIRECT_MAX_CALLS_PER_USER: positiveInt.max(1_000).default(2),

  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: url.optional(),
  OPENAI_LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  OPENAI_STT_MODEL: z.string().min(1).default('whisper-1'),
  OPENAI_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
  CARTESIA_API_KEY: optionalSecret,
  CARTESIA_BASE_URL: url.optional(),
  CARTESIA_MODEL: z.string().min(1).default('sonic-2'),
  CARTESIA_DEFAULT_VOICE: z.string().min(1).default('794f9389-aac1-45b6-b726-9d9369183238'),
  PROVIDER_TIMEOUT_MS: positiveInt.default(15_000),
  PROVIDER_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),

  RAG_TOP_K: positiveInt.max(50).default(5),
  RAG_MIN_SIMILARITY: z.coerce.number().min(-1).max(1).default(0.3),
  HISTORY_MESSAGES: positiveInt.max(500).default(30),
  MEMORY_ENABLED: z.stringbool().default(true),
  MEMORY_IDLE_MS: positiveInt.max(24 * 3_600_000).default(120_000),
  MEMORY_RECENT: z.coerce.number().int().min(0).max(50).default(5),
  MEMORY_TOP_K: z.coerce.number().int().min(0).max(50).default(3),
  KNOWLEDGE_MAX_DOCUMENT_CHARS: positiveInt.default(200_000),
  KNOWLEDGE_MAX_CHARS_PER_USER: positiveInt.default(2_000_000),
  KNOWLEDGE_MAX_FILE_BYTES: positiveInt.default(10_000_000),
});

type Env = z.output<typeof envSchema>;

/** Parley's configuration, grouped by the part of the system that uses it. */
export interface Config {
  logLevel: Env['LOG_LEVEL'];
  /** `auto`: readable lines in a terminal, JSON otherwise (see `resolveLogFormat`). */
  logFormat: Env['LOG_FORMAT'];
  http: {
    host: string;
    port: number;
    publicUrl: string | undefined;
    corsOrigins: string[];
    bodyLimitBytes: number;
    /** Longest a client may take to send a whole request (headers and body). */
    requestTimeoutMs: number;
    rateLimitPerMinute: number;
  };
  dataDir: string;
  database: { url: string | undefined; poolSize: number };
  auth: {
    supabaseUrl: string | undefined;
    supabaseAnonKey: string | undefined;
    supabaseJwtSecret: string | undefined;
    jwksCacheMs: number;
    allowDevSessions: boolean;
    devSessionTtlMs: number;
  };
  livekit: {
    url: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
    agentName: string;
    tokenTtlMs: number;
    /** The agent worker's health endpoint. */
    workerHttpPort: number;
    /**
     * How long a new job process may take to start (load the agent, the framework, the VAD)
     * before the worker kills it and starts another. A job waits for a started process, so
     * a limit below what the host needs under load restarts the same work over and over.
     */
    processStartTimeoutMs: number;
    /**
     * `auto`: `npm start` also runs an agent worker when LiveKit and `DATABASE_URL` are set;
     * `off`: it serves the API alone, and workers run as `npm run agent`.
     */
    apiRunsWorker: boolean;
  };
  /** Direct WebRTC calls: past `maxCalls` at once, a new call is refused, not squeezed in. */
  direct: {
    maxCalls: number;
    /** Calls one user may hold at once, so one user cannot take every slot. */
    maxCallsPerUser: number;
  };
  /** Knowledge uploads: the longest document, and the most text one user's characters hold. */
  knowledge: { maxDocumentChars: number; maxCharsPerUser: number; maxFileBytes: number };
  /**
   * How a voice session decides the user's turn is over: `vad` after a fixed silence, `text`
   * after a fixed silence unless the transcript ends on an open clause (English rules,
   * agent/voice/turn-cues.ts), `model` with LiveKit's on-device end-of-turn model
   * (agent/voice/turn-detection.ts).
   */
  voice: {
    turnDetection: 'model' | 'text' | 'vad';
    /**
     * Endpointing, counted from the last speech: the turn ends `minDelayMs` after it (VAD, or
     * the model or the transcript saying the turn is likely over), `maxDelayMs` when they say
     * it is not. `text` only: `unsureDelayMs` when the transcript ends on a number, a month or a
     * list, which may go on (between the two).
     */
    endpointing: { minDelayMs: number; maxDelayMs: number; unsureDelayMs: number };
    /**
     * `model` only: the end-of-turn probability below which the model's answer counts as "not
     * done" (the wait is then `maxDelayMs`); undefined keeps agents' shipped per-language table.
     */
    modelThreshold: number | undefined;
    /**
     * What "uh-huh", "yeah", "right" said over the character's reply do: `resume` the paused
     * reply and store nothing (agent/voice/backchannel.ts), or `interrupt` it like any words.
     */
    backchannels: 'resume' | 'interrupt';
    /**
     * How long a reply paused by the user's voice waits, once they are quiet, for a transcript
     * with words (which interrupts it) before it resumes; agents' `falseInterruptionTimeout`.
     */
    resumeDelayMs: number;
  };
  openai: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    llmModel: string;
    sttModel: string;
    embeddingModel: string;
  };
  cartesia: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    defaultVoice: string;
  };
  providers: { timeoutMs: number; maxRetries: number };
  rag: { topK: number; minSimilarity: number; historyMessages: number };
  /** Memory across conversations (agent/memory/): distilled by the LLM, recalled per turn. */
  memory: { enabled: boolean; idleMs: number; recent: number; topK: number };
}

/** An env file's `FOO=` means "not set", not "set to the empty string". */
function dropEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') out[key] = value;
  }
  return out;
}

function crossChecks(env: Env): string[] {
  const problems: string[] = [];
  const livekit = [env.LIVEKIT_URL, env.LIVEKIT_API_KEY, env.LIVEKIT_API_SECRET];
  const setCount = livekit.filter((v) => v !== undefined).length;
  if (setCount > 0 && setCount < 3) {
    problems.push('LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET: set all three or none');
  }
  if (env.SUPABASE_JWT_SECRET !== undefined && env.SUPABASE_URL === undefined) {
    problems.push('SUPABASE_JWT_SECRET: needs SUPABASE_URL (the token issuer) as well');
  }
  const { minDelayMs, maxDelayMs } = endpointingConfig(env);
  // VAD-only endpointing never waits the maximum: only a detector's "not done" does.
  if (env.TURN_DETECTION !== 'vad' && minDelayMs > maxDelayMs) {
    problems.push(`TURN_MIN_DELAY_MS: ${minDelayMs} is over TURN_MAX_DELAY_MS (${maxDelayMs})`);
  }
  const unsure = env.TURN_UNSURE_DELAY_MS;
  if (unsure !== undefined && (unsure < minDelayMs || unsure > maxDelayMs)) {
    problems.push(
      `TURN_UNSURE_DELAY_MS: ${unsure} is not between TURN_MIN_DELAY_MS (${minDelayMs}) and TURN_MAX_DELAY_MS (${maxDelayMs})`,
    );
  }
  return problems;
}

/** The endpointing delays: the settings, else the turn-detection mode's defaults. */
function endpointingConfig(env: Env): Config['voice']['endpointing'] {
  const minDelayMs = env.TURN_MIN_DELAY_MS ?? TURN_DEFAULTS[env.TURN_DETECTION].minDelayMs;
  const maxDelayMs = env.TURN_MAX_DELAY_MS ?? TURN_DEFAULTS[env.TURN_DETECTION].maxDelayMs;
  const unsureDefault = Math.min(Math.max(TURN_UNSURE_DELAY_DEFAULT_MS, minDelayMs), maxDelayMs);
  return { minDelayMs, maxDelayMs, unsureDelayMs: env.TURN_UNSURE_DELAY_MS ?? unsureDefault };
}

function toConfig(env: Env): Config {
  return {
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    http: httpConfig(env),
    dataDir: env.DATA_DIR,
    database: { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE },
    auth: authConfig(env),
    livekit: livekitConfig(env),
    direct: { maxCalls: env.DIRECT_MAX_CALLS, maxCallsPerUser: env.DIRECT_MAX_CALLS_PER_USER },
    knowledge: {
      maxDocumentChars: env.KNOWLEDGE_MAX_DOCUMENT_CHARS,
      maxCharsPerUser: env.KNOWLEDGE_MAX_CHARS_PER_USER,
      maxFileBytes: env.KNOWLEDGE_MAX_FILE_BYTES,
    },
    voice: {
      turnDetection: env.TURN_DETECTION,
      endpointing: endpointingConfig(env),
      modelThreshold: env.TURN_MODEL_THRESHOLD,
      backchannels: env.TURN_BACKCHANNELS,
      resumeDelayMs: env.TURN_RESUME_DELAY_MS,
    },
    ...providerConfig(env),
    rag: {
      topK: env.RAG_TOP_K,
      minSimilarity: env.RAG_MIN_SIMILARITY,
      historyMessages: env.HISTORY_MESSAGES,
    },
    memory: {
      enabled: env.MEMORY_ENABLED,
      idleMs: env.MEMORY_IDLE_MS,
      recent: env.MEMORY_RECENT,
      topK: env.MEMORY_TOP_K,
    },
  };
}

function httpConfig(env: Env): Config['http'] {
  return {
    host: env.HOST,
    port: env.PORT,
    publicUrl: env.PUBLIC_URL,
    corsOrigins: env.CORS_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
  };
}

function authConfig(env: Env): Config['auth'] {
  return {
    supabaseUrl: env.SUPABASE_URL?.replace(/\/+$/, ''),
    supabaseAnonKey: env.SUPABASE_ANON_KEY,
    supabaseJwtSecret: env.SUPABASE_JWT_SECRET,
    jwksCacheMs: env.JWKS_CACHE_MS,
    allowDevSessions: env.ALLOW_DEV_SESSIONS,
    devSessionTtlMs: env.DEV_SESSION_TTL_MS,
  };
}

function livekitConfig(env: Env): Config['livekit'] {
  return {
    url: env.LIVEKIT_URL,
    apiKey: env.LIVEKIT_API_KEY,
    apiSecret: env.LIVEKIT_API_SECRET,
    agentName: env.LIVEKIT_AGENT_NAME,
    tokenTtlMs: env.ROOM_TOKEN_TTL_MS,
    workerHttpPort: env.AGENT_HTTP_PORT,
    processStartTimeoutMs: env.AGENT_JOB_START_TIMEOUT_MS,
    apiRunsWorker: env.AGENT_WORKER === 'auto',
  };
}

function providerConfig(env: Env): Pick<Config, 'openai' | 'cartesia' | 'providers'> {
  return {
    openai: {
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      llmModel: env.OPENAI_LLM_MODEL,
      sttModel: env.OPENAI_STT_MODEL,
      embeddingModel: env.OPENAI_EMBEDDING_MODEL,
    },
    cartesia: {
      apiKey: env.CARTESIA_API_KEY,
      baseUrl: env.CARTESIA_BASE_URL,
      model: env.CARTESIA_MODEL,
      defaultVoice: env.CARTESIA_DEFAULT_VOICE,
    },
    providers: { timeoutMs: env.PROVIDER_TIMEOUT_MS, maxRetries: env.PROVIDER_MAX_RETRIES },
  };
}

/**
 * Parses the environment once, at start-up. Reports every missing or invalid variable at
 * once, each with its name, in one `CONFIG.INVALID` error.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(dropEmpty(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw configError(problems);
  }
  const problems = crossChecks(parsed.data);
  if (problems.length > 0) throw configError(problems);
  return toConfig(parsed.data);
}

function configError(problems: string[]): AppError {
  return new AppError('CONFIG.INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`, {
    details: problems,
  });
}

/** The variable names, for `.env.example` drift checks. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);
