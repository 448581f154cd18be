import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Where the seat rule and the seat ledger live is a promise to the reader (README, "Where the seat rule lives"):
// these keep it true as the code changes.
const src = path.resolve(import.meta.dirname, '../src');
const files = (fs.readdirSync(src, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.split(path.sep).join('/'));
const read = (file: string) => fs.readFileSync(path.join(src, file), 'utf8');
const LEDGER = 'modules/registrations/ledger.repository.ts';

describe('the seat ledger', () => {
  it('is the only code that locks an event row for update or moves its seat counters', () => {
    const lockers = files.filter((f) => /from\(events\)[^;]*\.for\('update'/.test(read(f)));
    const counterWriters = files.filter((f) =>
      /(registeredCount|waitlistCount):\s*sql|(registered_count|waitlist_count)\s*=/.test(read(f)),
    );
    expect(lockers).toEqual([LEDGER]);
    expect(counterWriters).toEqual([LEDGER]);
  });

  it('keeps the seat rule free of any database or framework import', () => {
    expect(read('modules/registrations/seat-rule.ts')).not.toMatch(/^import /m);
  });

  it('lets the scheduler know no feature: features register with it', () => {
    const imports = [...read('modules/jobs/scheduler.ts').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.filter((i) => i!.startsWith('../') && !i!.startsWith('../../'))).toEqual([]);
  });
});
