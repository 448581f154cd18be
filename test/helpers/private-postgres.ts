import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest installed PostgreSQL's bin folder with initdb and pg_ctl (Debian layout), if any. */
function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')) && fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

export const pgBin = findPgBin();
const isRoot = process.getuid?.() === 0;

/**
 * Fault tests stop and restart PostgreSQL, so they use a throwaway cluster of their own, never the shared
 * server the other test files use. They run in the PostgreSQL CI run (TEST_DATABASE_URL set) where the
 * server binaries are installed.
 */
export const canRunPrivatePostgres = Boolean(process.env.TEST_DATABASE_URL) && pgBin !== undefined;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL cluster in a temp folder on a free port, owned by the `postgres` OS user when we are root. */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication, local TCP only). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  static async create(): Promise<PrivatePostgres> {
    if (!pgBin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) are not installed');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-pg-'));
    if (isRoot) await run('chown', ['postgres:postgres', dir]);
    const cluster = new PrivatePostgres(dir, await freePort());
    await cluster.pg('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await cluster.start();
    return cluster;
  }

  /** Runs a server binary as the cluster's owner (initdb and postgres refuse to run as root). */
  private async pg(binary: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
    const command = path.join(pgBin!, binary);
    return isRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  }

  async start(): Promise<void> {
    // Its socket goes in its own folder, so it never touches the shared server's /var/run/postgresql.
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off`;
    await this.pg('pg_ctl', ['start', '-w', '-t', '30', '-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-o', options]);
  }

  /** `immediate` is a crash as far as clients can tell: backends are killed, recovery runs at the next start. */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    await this.pg('pg_ctl', ['stop', '-w', '-t', '30', '-D', this.dataDir, '-m', mode]);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
