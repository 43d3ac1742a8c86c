/** One measured figure, as a row of the table. */
export interface ResultRow {
  metric: string;
  value: string;
  /** What the issue asks for, when it asks for something. */
  target?: string;
  met?: boolean;
}

/** What one benchmark section reports. */
export interface SectionResult {
  /** The CLI name, e.g. `retrieval`. */
  name: string;
  title: string;
  rows: ResultRow[];
  /** How it was measured, what was changed for the run, and what the numbers mean. */
  notes: string[];
  /** Machine load (`os.loadavg`) when the section started and ended. */
  load: { before: string; after: string };
  durationMs: number;
}

function verdict(row: ResultRow): string {
  if (row.met === undefined) return '';
  return row.met ? 'met' : '**missed**';
}

/** The rows of one section as Markdown table lines (no header). */
export function tableLines(section: SectionResult): string[] {
  return section.rows.map(
    (row) =>
      `| ${section.name} | ${row.metric} | ${row.value} | ${row.target ?? ''} | ${verdict(row)} |`,
  );
}

export const TABLE_HEADER = [
  '| section | metric | result | target | verdict |',
  '|---|---|---|---|---|',
];

/** The one table of every section's rows, as printed to the terminal. */
export function renderTable(sections: SectionResult[]): string {
  return [...TABLE_HEADER, ...sections.flatMap(tableLines)].join('\n');
}
