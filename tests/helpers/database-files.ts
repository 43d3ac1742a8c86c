/**
 * Which test files need a database: those that call `openTestDatabase`, directly or through a
 * helper they import (an app harness, say). The PostgreSQL project runs exactly these, so a new
 * database test joins it without anyone keeping a list.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SKIPPED = new Set(['node_modules', '.git', '.data', 'dist']);
const DEFINER = join('tests', 'helpers', 'database.ts');

/** The database test files under `root`, relative to it. */
export function databaseTestFiles(root: string): string[] {
  const memo = new Map<string, boolean>();
  return sourceFiles(root)
    .filter((file) => file.endsWith('.test.ts'))
    .filter((file) => opensDatabase(file, root, memo, new Set()))
    .map((file) => relative(root, file))
    .sort();
}

function opensDatabase(
  file: string,
  root: string,
  memo: Map<string, boolean>,
  seen: Set<string>,
): boolean {
  const known = memo.get(file);
  if (known !== undefined) return known;
  if (seen.has(file) || relative(root, file) === DEFINER) return false;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const result: boolean =
    text.includes('openTestDatabase(') ||
    relativeImports(text, file).some((dep) => opensDatabase(dep, root, memo, seen));
  memo.set(file, result);
  return result;
}

/** The TypeScript files a module imports by relative path (`./x.js` is `./x.ts` on disk). */
function relativeImports(text: string, file: string): string[] {
  const imports = text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g);
  return [...imports]
    .map((match) => resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts')))
    .filter((path) => path.endsWith('.ts') && existsSync(path));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}
