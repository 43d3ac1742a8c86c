/**
 * A note a test agent's entry function sends to the fake LiveKit server, so a test can see
 * what happened inside the job process (which the worker forks, out of the test's reach).
 */
export interface JobReport {
  /** `ctx.job.id`. */
  jobId: string;
  /** What happened, e.g. `started`, `connect-failed`. */
  event: string;
  data: unknown;
}

/** Where the fake server accepts reports (`POST`, JSON body). Not part of LiveKit. */
export const JOB_REPORT_PATH = '/_fake/job-report';

/**
 * Posts a report to the fake server behind `livekitUrl` (`ctx.info.url` inside a job:
 * `ws://…` or `http://…`). Throws when the server refuses it.
 */
export async function postJobReport(livekitUrl: string, report: JobReport): Promise<void> {
  const url = new URL(JOB_REPORT_PATH, livekitUrl.replace(/^ws/, 'http'));
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(report),
  });
  if (!response.ok) throw new Error(`job report refused: HTTP ${response.status}`);
}

/** Parses a report body; `undefined` when it is not one. */
export function parseJobReport(body: string): JobReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { jobId, event, data } = value as Record<string, unknown>;
  if (typeof jobId !== 'string' || typeof event !== 'string') return undefined;
  return { jobId, event, data };
}
