// Runs inside each candidate instance process (bundled together with the candidate's module): builds the
// AppContext, calls `setup` (setup mode) or `create`, serves the challenge's routes (CONTRACT §6; the HTTP side is
// instance-server.ts) and reports to the harness over the control pipe (fd 3). Candidate failures become messages
// to the harness, never silent exits.
//
// Everything the runtime relies on is captured before the candidate's module is loaded: the control socket and
// its token (removed from process.env), process.exit. A module that patches globals only fools its own process.

import type http from 'node:http';
import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { RouteTable } from './routes.ts';
import { serve } from './instance-server.ts';
import { BRIDGE_ENV, parseBridgeSpec, startBridge } from './net-bridge.ts';
import { serviceUrlsFromEnv } from '../services/types.ts';

type Msg =
  | { type: 'ready'; port: number; capabilities: string[] }
  | { type: 'setup-done' }
  | { type: 'load-error'; stage: 'import' | 'create' | 'setup'; message: string }
  | { type: 'fatal'; message: string; code?: string }
  | { type: 'log'; message: string; fields?: Record<string, unknown> };

const realExit = process.exit.bind(process) as (code?: number) => never;
const stringify = JSON.stringify;
let control: net.Socket | null = null;
let token = '';
let goSignal: (() => void) | null = null;
/**
 * Contained: the Unix sockets behind the bridge's ports. The runtime's own pg pool and Redis client use them
 * directly (the same endpoints, one hop fewer); the candidate's own clients go through the bridge's ports.
 */
let directSockets: { port: number; path: string }[] = [];
const socketFor = (url: string): string | undefined => {
  try {
    const port = Number(new URL(url).port);
    return directSockets.find((s) => s.port === port)?.path;
  } catch {
    return undefined;
  }
};
/** Resolves once the harness says `go` (setup is done); at once when it was not asked to wait. */
const go = new Promise<void>((resolve) => {
  goSignal = resolve;
});

/** Open the control pipe the harness gave as fd 3 (a process started some other way has none). */
function openControl(): void {
  token = process.env.GAUNTLET_CONTROL_TOKEN ?? '';
  delete process.env.GAUNTLET_CONTROL_TOKEN;
  try {
    control = new net.Socket({ fd: 3, readable: true, writable: true });
  } catch {
    control = null;
    return;
  }
  control.on('error', () => {});
  control.on('data', (chunk: Buffer) => {
    if (chunk.includes('go\n')) goSignal?.();
  });
  // The harness went away (killed, crashed): never outlive it.
  control.on('end', () => realExit(0));
  control.on('close', () => realExit(0));
  control.resume();
}

function send(msg: Msg, then?: () => void): void {
  if (!control || control.destroyed) return void then?.();
  try {
    // A leading newline ends any partial line someone else wrote to the pipe, so this message stands on its own.
    control.write('\n' + stringify({ ...msg, k: token }) + '\n', then && (() => then()));
  } catch {
    then?.(); // the harness is gone; nothing to tell
  }
}

/**
 * Tell the harness, then exit once the write went out (bounded: a harness that stopped reading must not keep a
 * dying instance alive). The bound is generous so the last words arrive even on a busy machine.
 */
function sendAndExit(msg: Msg, code: number): void {
  // The instance's own log says it too: the run folder keeps why an instance never came up.
  if (msg.type === 'load-error') {
    try {
      fs.writeSync(2, `[gauntlet] the ${msg.stage === 'import' ? 'module could not be loaded' : `${msg.stage}(ctx) call failed`}: ${msg.message}\n`);
    } catch {
      // stderr closed: the control pipe still carries it
    }
  }
  setTimeout(() => realExit(code), 2000);
  send(msg, () => realExit(code));
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code ? ` [${String(code)}]` : ''}: ${err.message}${sandboxNote(err)}${err.stack ? '\n' + err.stack.split('\n').slice(1, 6).join('\n') : ''}`;
  }
  return String(err);
}

/** What the permission model refused, in words (Node's own message does not say), naming the package and a remedy. */
function sandboxNote(err: Error): string {
  const e = err as { code?: unknown; permission?: unknown; resource?: unknown };
  if (e.code !== 'ERR_ACCESS_DENIED' && e.code !== 'ERR_DLOPEN_DISABLED') return '';
  const pkg = packageOf(`${String(e.resource ?? '')}\n${err.stack ?? ''}`);
  const who = pkg ? `the package ${pkg}` : 'the submission';
  const remedy = `${pkg ? `use a pure-JavaScript alternative to ${pkg}, ` : ''}run the solution in HTTP mode (gauntlet.json "mode": "http", contained by bubblewrap), or grade code you trust with --no-sandbox (docs/candidates.md)`;
  if (e.code === 'ERR_DLOPEN_DISABLED') return ` (native addon: blocked by gauntlet's sandbox — ${who} loads a native addon, and Node's permission model cannot run compiled code; ${remedy})`;
  if (e.permission === 'ChildProcess') return ` (ChildProcess: blocked by gauntlet's sandbox — ${who} starts a process, which the sandbox forbids; ${remedy})`;
  const what = e.permission ? `${String(e.permission)}${e.resource ? ` on ${String(e.resource)}` : ''}` : 'restricted API';
  return ` (${what}: blocked by gauntlet's sandbox — an instance may read only its own bundle and the submission's node_modules, write only os.tmpdir(), and may not start processes, worker threads, the inspector or native addons; ${pkg ? `${who} tried; ` : ''}see docs/security.md)`;
}

/** Loaders of native addons: the package to name is the one that asked them. */
const ADDON_LOADERS = new Set(['bindings', 'node-gyp-build', 'node-gyp-build-optional-packages', '@mapbox/node-pre-gyp', 'node-pre-gyp', 'prebuild-install', 'file-uri-to-path']);

/** The innermost package named in a path or stack (node_modules/<name> or node_modules/@scope/<name>), past addon loaders. */
export function packageOf(text: string): string | null {
  for (const m of text.matchAll(/node_modules\/((?:@[^/\s]+\/)?[^/\s:)]+)/g)) if (!ADDON_LOADERS.has(m[1])) return m[1];
  return null;
}

/** A submission that calls process.exit says so in the instance log (the exit itself stays immediate). */
function reportExitCalls(): void {
  process.exit = ((code?: number) => {
    try {
      const where = (new Error().stack ?? '').split('\n').slice(2, 3).join('');
      fs.writeSync(2, `\n[gauntlet] the submission called process.exit(${code ?? ''})\n${where}\n`);
    } catch {
      // stderr closed: exit anyway
    }
    return realExit(code);
  }) as typeof process.exit;
}

/** The harness gives no Redis: every use says so, as an environment problem (not the candidate's fault). */
function missingRedis(reason: string): Redis {
  return unavailable('Redis', `${reason}. Install redis-server or set REDIS_URL, then grade again`, 'GAUNTLET_NO_REDIS') as Redis;
}

/** A stand-in whose every use throws why the thing is not there (listeners are accepted and ignored). */
function unavailable(what: string, reason: string, code = 'GAUNTLET_UNAVAILABLE'): unknown {
  const fail = () => {
    throw Object.assign(new Error(`${what} is not available in this grading environment (${reason}).`), { code });
  };
  return new Proxy({}, { get: (_t, prop) => (prop === 'then' ? undefined : prop === 'on' || prop === 'once' ? () => undefined : fail) });
}

/**
 * ctx.pg (and ctx.replica): at most 10 connections (node-postgres's default; docs/decisions.md), one size for every
 * grade so scores compare; a submission that wants another size makes its own pool from the URL. Contained, pg reaches
 * the Unix socket through its folder (`host`), the file being PostgreSQL's `.s.PGSQL.<port>`.
 */
function contextPool(url: string): pg.Pool {
  const socket = socketFor(url);
  const max = 10;
  const pool = new pg.Pool(socket ? { ...pgParts(url), host: socket.slice(0, socket.lastIndexOf('/')), max } : { connectionString: url, max });
  // CONTRACT §8: every client the pool creates has an 'error' listener, so a killed backend never crashes the process.
  pool.on('connect', (client) => client.on('error', (err) => send({ type: 'log', message: 'pg client error (connection lost)', fields: { error: err.message, by: 'gauntlet' } })));
  pool.on('error', () => {});
  return pool;
}

/** The parts of a postgres:// URL (a connection string would override an explicit `host`). */
function pgParts(url: string): { user: string; password: string; database: string; port: number } {
  const u = new URL(url);
  return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: decodeURIComponent(u.pathname.slice(1)), port: Number(u.port || 5432) };
}

async function buildContext() {
  const env = process.env;
  const instance = Number(env.GAUNTLET_INSTANCE ?? 0);
  const databaseUrl = env.DATABASE_URL ?? '';
  const redisUrl = env.REDIS_URL ?? '';
  const replicaUrl = env.REPLICA_URL ?? '';
  const pool = contextPool(databaseUrl);
  const replica = replicaUrl ? contextPool(replicaUrl) : (unavailable('a replica', 'this challenge has none: only subscription-reads gets ctx.replica') as pg.Pool);
  let redis: Redis;
  if (redisUrl) {
    const redisSocket = socketFor(redisUrl);
    redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 3000, ...(redisSocket ? { path: redisSocket } : {}) });
    redis.on('error', () => {});
    try {
      await redis.connect();
    } catch (err) {
      redis = missingRedis(`cannot connect to ${redisUrl}: ${(err as Error).message}`);
    }
  } else {
    redis = missingRedis(env.GAUNTLET_REDIS_PROBLEM || 'no Redis server found');
  }
  let scenario: Record<string, unknown> = {};
  if (env.GAUNTLET_SCENARIO) scenario = JSON.parse(fs.readFileSync(env.GAUNTLET_SCENARIO, 'utf8'));
  const ctx = {
    instance,
    databaseUrl,
    redisUrl,
    pg: pool,
    replicaUrl,
    replica,
    redis,
    services: serviceUrlsFromEnv(env),
    webhookSecret: env.WEBHOOK_SECRET ?? '',
    log(message: string, fields?: Record<string, unknown>) {
      send({ type: 'log', message: String(message), fields });
    },
  };
  return { ctx, scenario };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

function installCrashReporting(): void {
  process.on('uncaughtException', (err) => {
    sendAndExit({ type: 'fatal', message: describe(err), code: (err as { code?: string }).code }, 70);
  });
  process.on('unhandledRejection', (err) => {
    sendAndExit({ type: 'fatal', message: `unhandled promise rejection: ${describe(err)}`, code: (err as { code?: string })?.code }, 70);
  });
}

/**
 * The instance's life: the control pipe and crash reporting first, the network bridge (contained), the go from the
 * harness, the candidate's module, its context; then `setup` (setup mode) or `create` and serving the routes.
 */
export async function runInstance(loadModule: () => Promise<Record<string, any>>, table: RouteTable): Promise<void> {
  openControl();
  installCrashReporting();
  reportExitCalls();
  const mode = process.env.GAUNTLET_MODE ?? 'serve';
  const loadTimeoutMs = Number(process.env.GAUNTLET_LOAD_TIMEOUT_MS ?? 15000);
  // Contained (a network namespace of its own): the way out to this scenario's endpoints, before any candidate code.
  const listenPath = process.env.GAUNTLET_LISTEN_PATH ?? '';
  delete process.env.GAUNTLET_LISTEN_PATH;
  if (!(await openBridge())) return;
  await waitForGo(mode);
  const mod = await importModule(loadModule);
  if (!mod) return;
  const { ctx, scenario } = await buildContext();
  if (mode === 'setup') return runSetup(mod, ctx, scenario, loadTimeoutMs);
  const service = await createService(mod, ctx, loadTimeoutMs);
  if (!service) return;
  const server = serve(service, table, { listenPath, port: Number(process.env.PORT ?? 0), describe, ready: (port, capabilities) => send({ type: 'ready', port, capabilities }) });
  closeOnSigterm(server, mod, service);
}

type InstanceContext = Awaited<ReturnType<typeof buildContext>>['ctx'];

/** Contained: the bridge to this scenario's endpoints (its spec taken out of the environment). False when it failed and the instance is exiting. */
async function openBridge(): Promise<boolean> {
  try {
    const spec = parseBridgeSpec(process.env[BRIDGE_ENV]);
    delete process.env[BRIDGE_ENV];
    if (spec) {
      await startBridge(spec);
      directSockets = spec.outbound;
    }
    return true;
  } catch (err) {
    sendAndExit({ type: 'load-error', stage: 'import', message: `gauntlet could not open the instance's network bridge (not the submission's fault): ${describe(err)}` }, 1);
    return false;
  }
}

/** Started while setup still runs: no candidate code before the harness says setup is done. */
async function waitForGo(mode: string): Promise<void> {
  const waitGo = process.env.GAUNTLET_WAIT_GO === '1' && mode === 'serve';
  delete process.env.GAUNTLET_WAIT_GO;
  if (waitGo) await go;
}

/** The candidate's module; null when it cannot be imported (reported, exiting). */
async function importModule(loadModule: () => Promise<Record<string, any>>): Promise<Record<string, any> | null> {
  try {
    return await loadModule();
  } catch (err) {
    sendAndExit({ type: 'load-error', stage: 'import', message: describe(err) }, 1);
    return null;
  }
}

/** Setup mode: the module's `setup(ctx)` (if it has one), within the load timeout; then the instance exits. */
async function runSetup(mod: Record<string, any>, ctx: InstanceContext, scenario: Record<string, unknown>, loadTimeoutMs: number): Promise<void> {
  try {
    if (typeof mod.setup === 'function') await withTimeout(Promise.resolve(mod.setup({ ...ctx, scenario })), loadTimeoutMs, 'setup(ctx)');
    await ctx.pg.end().catch(() => {});
    if (ctx.replicaUrl) await ctx.replica.end().catch(() => {});
    return sendAndExit({ type: 'setup-done' }, 0);
  } catch (err) {
    return sendAndExit({ type: 'load-error', stage: 'setup', message: describe(err) }, 1);
  }
}

/** The service from `create(ctx)` (the default export), within the load timeout; null when there is none (reported, exiting). */
async function createService(mod: Record<string, any>, ctx: InstanceContext, loadTimeoutMs: number): Promise<Record<string, any> | null> {
  try {
    if (typeof mod.default !== 'function') throw new Error('the module has no default export: it must `export default async function create(ctx)` returning the service');
    const service = await withTimeout(Promise.resolve(mod.default(ctx)), loadTimeoutMs, 'create(ctx)');
    if (!service || typeof service !== 'object') throw new Error(`create(ctx) resolved to ${String(service)}, not a service object`);
    return service;
  } catch (err) {
    sendAndExit({ type: 'load-error', stage: 'create', message: describe(err) }, 1);
    return null;
  }
}

/** SIGTERM: stop serving, give the module's `close(service)` two seconds, then exit. */
function closeOnSigterm(server: http.Server, mod: Record<string, any>, service: Record<string, any>): void {
  process.on('SIGTERM', () => {
    server.close();
    const closing = typeof mod.close === 'function' ? withTimeout(Promise.resolve(mod.close(service)), 2000, 'close(service)') : Promise.resolve();
    void closing.catch(() => {}).finally(() => realExit(0));
  });
}
