/**
 * One process starting up against a shared PostgreSQL, stopped just before it migrates: it
 * opens the database as `npm start` does, prints `ready`, waits for a line on stdin (so a
 * test can release several at the same instant), migrates, prints the report as one JSON
 * line and exits 0; on failure it prints the error and exits 1.
 *
 * Usage: node --import tsx tests/postgres/migrate-process.ts <DATABASE_URL> <application name>
 */
import { once } from 'node:events';
import { openDatabase } from '../../db/client.js';

const [url, applicationName] = process.argv.slice(2);
if (url === undefined || applicationName === undefined) {
  process.stderr.write('usage: migrate-process.ts <DATABASE_URL> <application name>\n');
  process.exit(2);
}
try {
  const database = await openDatabase({ url, dataDir: 'unused', poolSize: 1, applicationName });
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const report = await database.migrate();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await database.close();
  process.exit(0);
} catch (error) {
  process.stdout.write(`failed: ${String(error)}\n`);
  process.exit(1);
}
