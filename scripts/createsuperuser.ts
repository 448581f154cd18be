// Creates a staff user, as the reference framework's createsuperuser does.
// Usage: npm run createsuperuser -- --email admin@example.com --username admin [--password-env VAR]
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import 'dotenv/config';
import { loadConfig } from '../src/config.js';
import { openDatabase, runMigrations } from '../src/db/client.js';
import { ValidationError } from '../src/lib/errors.js';
import { createSuperuser } from '../src/modules/users/users.service.js';

const { values } = parseArgs({
  options: { email: { type: 'string' }, username: { type: 'string' }, 'password-env': { type: 'string' } },
});

async function prompt(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stdout.write(question);
    };
  }
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stdout.write('\n');
  return answer;
}

const email = values.email ?? (await prompt('Email: '));
const username = values.username ?? (await prompt('Username: '));
let password: string;
if (values['password-env']) {
  password = process.env[values['password-env']] ?? '';
  if (!password) {
    console.error(`Environment variable ${values['password-env']} is empty.`);
    process.exit(1);
  }
} else {
  password = await prompt('Password: ', true);
  if ((await prompt('Password (again): ', true)) !== password) {
    console.error("Error: Your passwords didn't match.");
    process.exit(1);
  }
}

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
try {
  await runMigrations(database);
  const user = await createSuperuser(database.db, { email, username, password }, new Date());
  console.log(`Superuser created: ${user.username} <${user.email}> (${user.id})`);
} catch (err) {
  if (err instanceof ValidationError) {
    for (const [field, messages] of Object.entries(err.fields)) console.error(`${field}: ${messages.join(' ')}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
} finally {
  await database.close();
}
