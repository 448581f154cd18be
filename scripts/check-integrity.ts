// Verifies the seat, ticket and rating invariants on DATABASE_URL, or on the embedded database in DATA_DIR
// (stop the server first: PGlite serves one process). Exits 1 with a list of problems when any is broken.
import 'dotenv/config';
import { loadConfig } from '../src/config.js';
import { DataDirLockedError, openDatabase, type Database } from '../src/db/client.js';
import { checkIntegrity } from '../src/lib/integrity.js';

const config = loadConfig();
let database: Database;
try {
  database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
} catch (err) {
  if (!(err instanceof DataDirLockedError)) throw err;
  console.error(`Cannot check: ${err.message}`);
  process.exit(2);
}
let broken = false;
try {
  const { problems, counts } = await checkIntegrity(database.db);
  const scope = `${counts.events} events, ${counts.registrations} registrations, ${counts.tickets} tickets, ${counts.feedbacks} feedbacks`;
  if (problems.length === 0) {
    console.log(`Integrity OK (${database.kind}): ${scope}.`);
  } else {
    broken = true;
    console.error(`Integrity BROKEN (${database.kind}): ${problems.length} problem(s) in ${scope}:`);
    for (const problem of problems) console.error(`  [${problem.check}] ${problem.detail}`);
  }
} finally {
  await database.close();
}
process.exitCode = broken ? 1 : 0;
