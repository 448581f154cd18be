// The shape of bench/results/latest.json and its markdown table (bench/results/latest.md).
import type { SeedSizes } from './seed.js';

export interface ScenarioResult {
  id: string;
  label: string;
  /** 'ok', 'skipped (route missing)' or 'failed: …'. */
  status: string;
  requestsPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  non2xx?: number;
  errors?: number;
  requests?: number;
  seconds?: number;
  statusCodes?: Record<string, number>;
  ratioToB0?: number;
  percentOfB1?: number;
  /** Cache-off scenarios: B1 measured on the same server just before the scenario, and the scenario as a % of it. */
  pairedB1?: number;
  percentOfPairedB1?: number;
  /** A scenario run several times: each round's figures (the row shows the median round). */
  rounds?: Array<{ requestsPerSecond: number; p99Ms: number }>;
  /** The registration race only: what the tables hold afterwards (round 0's counts; `ok` covers every round). */
  verification?: { ok: boolean } & Record<string, number | boolean>;
  notes: string[];
}

/** One server started for a group of scenarios: how long until it was ready, and its memory after them. */
export interface ServerRun {
  profile: string;
  readyMs: number;
  /** Resident memory (MiB) of each of its processes: the first one, then its children (cluster workers, the TypeScript loader). */
  rssMiB: number[];
}

export interface DatabaseRun {
  db: 'postgres' | 'pglite';
  workers: number;
  seedSeconds: number;
  counts: Record<string, number>;
  scenarios: ScenarioResult[];
  servers?: ServerRun[];
}

export interface BenchReport {
  startedAt: string;
  seconds: number;
  quick: boolean;
  durationSeconds: number;
  connections: number;
  loadGenerator: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  commit: string;
  sizes: SeedSizes;
  argon2: { memoryKiB: number; iterations: number; parallelism: number };
  runs: DatabaseRun[];
}

const num = (n: number | undefined, digits = 0) =>
  n === undefined ? '' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function formatTable(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    `# Benchmark results (${report.quick ? 'quick' : 'full'} run)`,
    '',
    `${report.startedAt}, commit ${report.commit}; ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}; ` +
      `load average before ${machine.loadAverageBefore.join(' / ')}, after ${machine.loadAverageAfter.join(' / ')}.`,
    `${report.loadGenerator}, ${report.connections} connections, ${report.durationSeconds} s per scenario; ` +
      `data: ${report.sizes.users.toLocaleString('en-US')} users, ${report.sizes.events.toLocaleString('en-US')} events, ` +
      `${report.sizes.registrations.toLocaleString('en-US')} registrations, ${report.sizes.feedbacks.toLocaleString('en-US')} feedbacks.`,
    '',
    '| Scenario | Database | req/s | p50 ms | p99 ms | non-2xx | errors | × B0 | % of B1 | % of paired B1 | Notes |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const run of report.runs) {
    const database = `${run.db} (${run.workers} worker${run.workers > 1 ? 's' : ''})`;
    for (const s of run.scenarios) {
      if (s.status !== 'ok') {
        lines.push(`| ${s.label} | ${database} | ${s.status} | | | | | | | | |`);
        continue;
      }
      lines.push(
        `| ${s.label} | ${database} | ${num(s.requestsPerSecond)} | ${num(s.p50Ms, 1)} | ${num(s.p99Ms, 1)} | ${s.non2xx} | ${s.errors} | ` +
          `${s.ratioToB0 === undefined ? '' : `${num(s.ratioToB0, 3)}×`} | ${s.percentOfB1 === undefined ? '' : `${num(s.percentOfB1, 1)}%`} | ` +
          `${s.percentOfPairedB1 === undefined ? '' : `${num(s.percentOfPairedB1, 1)}% of ${num(s.pairedB1)}`} | ` +
          `${s.notes.join('; ')} |`,
      );
    }
  }
  lines.push('');
  for (const run of report.runs) {
    lines.push(
      `Seeding ${run.db}: ${run.seedSeconds} s for ${Object.entries(run.counts)
        .map(([t, n]) => `${n.toLocaleString('en-US')} ${t}`)
        .join(', ')}.`,
    );
  }
  lines.push('');
  for (const run of report.runs) {
    for (const server of run.servers ?? []) {
      lines.push(
        `Server ${run.db} ${server.profile}: ready ${num(server.readyMs)} ms after start; resident memory after its scenarios ` +
          `${server.rssMiB.map((mib) => `${num(mib)} MiB`).join(' + ')} (${server.rssMiB.length > 1 ? 'the first process, then its children: cluster workers and the TypeScript loader' : 'one process'}).`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}
