// Fills an empty database (DATABASE_URL, or the embedded one in DATA_DIR) with a demo, then prints the logins.
// Usage: npm run seed   (then npm start)
import 'dotenv/config';
import { loadConfig } from '../src/config.js';
import { openDatabase, runMigrations } from '../src/db/client.js';
import { DatabaseNotEmptyError, DEMO_PASSWORD, seedDemo } from './seed-demo.js';

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
try {
  await runMigrations(database);
  const { logins, counts } = await seedDemo(database);
  console.log(`Demo data written to ${config.databaseUrl ? 'DATABASE_URL' : config.dataDir}:`);
  console.log(
    `  ${Object.entries(counts)
      .map(([table, n]) => `${n} ${table}`)
      .join(', ')}`,
  );
  console.log(`\nEvery demo account's password is ${DEMO_PASSWORD}\n`);
  for (const login of logins) console.log(`  ${login.role.padEnd(10)} ${login.email.padEnd(26)} ${login.username}`);
  console.log('\nStart the server with `npm start`, then open the API docs at /docs/ (log in with POST /auth/login/).');
} catch (err) {
  if (!(err instanceof DatabaseNotEmptyError)) throw err;
  console.error(err.message);
  process.exitCode = 1;
} finally {
  await database.close();
}
