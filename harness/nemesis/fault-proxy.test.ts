// Tests of the fault proxy against a real PostgreSQL (and a tiny echo server for ordering and backpressure):
// forwarding, added latency, resets mid-transaction, blackhole then heal, a clean close; then the wire
// protocol records of real clients, the proxy's own SSL refusal, tagged TCP / Unix listeners, and garbage.

import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { createRng } from '../seed.ts';
import type { SqlRecord } from '../wire/pg-wire.ts';

const execFileP = promisify(execFile);
function hasPsql(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PG_HOST = process.env.GAUNTLET_TEST_PG_HOST ?? '127.0.0.1';
const PG_PORT = Number(process.env.GAUNTLET_TEST_PG_PORT ?? 5432);

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function proxyToPg(): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ upstreamHost: PG_HOST, upstreamPort: PG_PORT });
  open.push(proxy);
  return proxy;
}

async function clientVia(proxy: FaultProxy, errors: Error[] = []): Promise<pg.Client> {
  const client = new pg.Client({ host: proxy.host, port: proxy.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
  client.on('error', (err) => errors.push(err)); // what a fair pool does (CONTRACT §8)
  await client.connect();
  open.push({ close: () => client.end().catch(() => {}) });
  return client;
}

/** Resolves with how the promise settled, or 'pending' after ms. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(() => 'resolved' as const, () => 'rejected' as const),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

async function echoServer(): Promise<net.Server & { port: number }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    open.push({ close: () => socket.destroy() });
  });
}

describe('fault proxy', () => {
  it('forwards a PostgreSQL session', async () => {
    const proxy = await proxyToPg();
    const client = await clientVia(proxy);
    const { rows } = await client.query('SELECT 41 + 1 AS answer');
    expect(rows[0].answer).toBe(42);
    expect(proxy.connections()).toBe(1);
  }, 15_000);

  it('adds at least the configured latency each way, and takes it off again', async () => {
    const proxy = await proxyToPg();
    const client = await clientVia(proxy);
    await client.query('SELECT 1');
    const time = async () => {
      const t0 = performance.now();
      await client.query('SELECT 1');
      return performance.now() - t0;
    };
    const baselineMs = await time();
    proxy.setLatency(60, 0);
    const slowMs = await time(); // one round trip: 60 ms there, 60 ms back
    proxy.clearLatency();
    const healedMs = await time();
    expect(slowMs).toBeGreaterThanOrEqual(118);
    expect(slowMs).toBeLessThan(1000);
    expect(healedMs).toBeLessThan(Math.max(50, baselineMs * 10));
  }, 15_000);

  it('keeps byte order under jitter and survives a large transfer with latency (backpressure)', async () => {
    const echo = await echoServer();
    const proxy = await startFaultProxy({ upstreamHost: '127.0.0.1', upstreamPort: echo.port });
    open.push(proxy);
    proxy.setLatency(5, 5, createRng(7));
    const socket = await connect(proxy.port);
    const total = 8 * 1024 * 1024;
    const payload = Buffer.alloc(total);
    for (let i = 0; i < total; i++) payload[i] = (i * 31 + (i >> 10)) & 0xff;
    const received: Buffer[] = [];
    let got = 0;
    const done = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        got += chunk.length;
        if (got >= total) resolve();
      });
    });
    // many small writes, then one large one
    for (let i = 0; i < 256; i++) socket.write(payload.subarray(i * 64, (i + 1) * 64));
    socket.write(payload.subarray(256 * 64));
    await done;
    expect(Buffer.concat(received).equals(payload)).toBe(true);
  }, 30_000);

  it('resetAll fails the statement in flight inside a transaction, then serves new connections', async () => {
    const proxy = await proxyToPg();
    const errors: Error[] = [];
    const client = await clientVia(proxy, errors);
    await client.query('BEGIN');
    await client.query('SELECT txid_current()'); // the transaction already did work
    const inFlight = client.query('SELECT pg_sleep(2)'); // its backend lingers until the sleep ends
    inFlight.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    const t0 = performance.now();
    expect(proxy.resetAll()).toBe(1);
    await expect(inFlight).rejects.toThrow();
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(proxy.connections()).toBe(0);

    const fresh = await clientVia(proxy);
    const { rows } = await fresh.query('SELECT 1 AS one');
    expect(rows[0].one).toBe(1);
  }, 15_000);

  it('blackhole makes a query hang until healed, then the connection errors instead of hanging', async () => {
    const proxy = await proxyToPg();
    const errors: Error[] = [];
    const client = await clientVia(proxy, errors);
    await client.query('SELECT 1');
    expect(proxy.blackhole(true)).toBe(0);
    const hung = client.query('SELECT 1');
    hung.catch(() => {});
    expect(await settledWithin(hung, 400)).toBe('pending');
    expect(proxy.blackhole(false)).toBe(1);
    expect(await settledWithin(hung, 2000)).toBe('rejected');

    const fresh = await clientVia(proxy);
    expect((await fresh.query('SELECT 2 AS two')).rows[0].two).toBe(2);
  }, 15_000);

  it('connections opened during a blackhole hang too and are reset on heal', async () => {
    const proxy = await proxyToPg();
    proxy.blackhole(true);
    const client = new pg.Client({ host: proxy.host, port: proxy.port, user: 'postgres', database: 'postgres' });
    client.on('error', () => {});
    const connecting = client.connect();
    connecting.catch(() => {});
    expect(await settledWithin(connecting, 300)).toBe('pending');
    expect(proxy.blackhole(false)).toBe(1);
    expect(await settledWithin(connecting, 2000)).toBe('rejected');
    await client.end().catch(() => {});
  }, 15_000);

  it('close destroys every connection and leaves no listening socket or timer behind', async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await new Promise((resolve) => setTimeout(resolve, 100)); // sockets of earlier tests finish closing
    const before = tcpHandles();
    const timersBefore = timers();
    const proxy = await startFaultProxy({ upstreamHost: PG_HOST, upstreamPort: PG_PORT });
    proxy.setLatency(20, 0);
    const errors: Error[] = [];
    const client = new pg.Client({ host: proxy.host, port: proxy.port, user: 'postgres', database: 'postgres' });
    client.on('error', (err) => errors.push(err));
    await client.connect();
    const query = client.query('SELECT pg_sleep(0.2)');
    query.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    await proxy.close();
    await proxy.close(); // idempotent
    expect(proxy.connections()).toBe(0);
    await expect(query).rejects.toThrow();
    await client.end().catch(() => {});
    await expect(connect(proxy.port)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tcpHandles()).toBe(before);
    expect(timers()).toBeLessThanOrEqual(timersBefore); // no latency timer left running
  }, 15_000);
});

// ---- the wire protocol through the proxy: records, SSL refusal, tagged listeners ----

function pgMsg(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int16 = (n: number): Buffer => int32(n).subarray(2);
const startupPacket = (user: string, database: string): Buffer => {
  const body = Buffer.concat([int32(196608), cstr('user'), cstr(user), cstr('database'), cstr(database), Buffer.from([0])]);
  return Buffer.concat([int32(body.length + 4), body]);
};
const SSL_REQUEST_BYTES = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

async function recordingProxy(): Promise<{ proxy: FaultProxy; records: SqlRecord[] }> {
  const records: SqlRecord[] = [];
  let clock = 0;
  const proxy = await startFaultProxy({ upstreamHost: PG_HOST, upstreamPort: PG_PORT, record: (r) => records.push(r), nowUs: () => ++clock });
  open.push(proxy);
  return { proxy, records };
}

async function waitFor(what: string, predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The records of one connection, without its clock and id, and without the connection's startup chatter. */
function conversation(records: SqlRecord[], conn: number): Omit<SqlRecord, 't' | 'conn'>[] {
  return records.filter((r) => r.conn === conn).map(({ t: _t, conn: _c, ...rest }) => rest);
}

/** A raw socket through the proxy that has passed the startup (trust authentication). */
async function rawSession(port: number, records: SqlRecord[]): Promise<{ socket: net.Socket; conn: number; data: Buffer[] }> {
  const socket = await connect(port);
  const data: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => data.push(chunk));
  socket.on('error', () => {});
  const before = new Set(records.map((r) => r.conn));
  socket.write(startupPacket('postgres', 'postgres'));
  await waitFor('the startup record', () => records.some((r) => r.kind === 'startup' && !before.has(r.conn)));
  const conn = records.find((r) => r.kind === 'startup' && !before.has(r.conn))!.conn;
  await waitFor('ready for query', () => records.some((r) => r.conn === conn && r.kind === 'ready'));
  return { socket, conn, data };
}

/** COPY ... FROM STDIN through node-postgres (what pg-copy-streams does): sends `rows`, then CopyDone. */
class CopyFromStdin {
  commandTag = '';
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  readonly done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
  private error: Error | null = null;
  constructor(private readonly text: string, private readonly rows: string[]) {}
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    for (const row of this.rows) connection.sendCopyFromChunk(Buffer.from(row));
    connection.endCopyFrom();
  }
  handleCommandComplete(msg: { text: string }): void {
    this.commandTag = msg.text;
  }
  handleError(err: Error): void {
    this.error = err;
  }
  handleReadyForQuery(): void {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve();
  }
}

describe('fault proxy recording the wire protocol', () => {
  it('records simple and parameterized queries, transaction status, errors and COPY from a real pg client', async () => {
    const { proxy, records } = await recordingProxy();
    const client = await clientVia(proxy);
    const conn = records.find((r) => r.kind === 'startup')!.conn;
    expect(records.find((r) => r.kind === 'startup')).toMatchObject({ user: 'postgres', database: 'postgres' });
    expect(records.find((r) => r.kind === 'startup')!.tag).toBeUndefined();

    let mark = records.length;
    await client.query('SELECT 41 + 1 AS answer');
    expect(conversation(records.slice(mark), conn)).toEqual([
      { kind: 'query', sql: 'SELECT 41 + 1 AS answer' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'ready', status: 'I' },
    ]);

    mark = records.length;
    const { rows } = await client.query('SELECT $1::int + $2::int AS sum', [1, 2]);
    expect(rows[0].sum).toBe(3);
    expect(conversation(records.slice(mark), conn)).toEqual([
      { kind: 'parse', sql: 'SELECT $1::int + $2::int AS sum' },
      { kind: 'bind', params: ['1', '2'] },
      { kind: 'execute' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'ready', status: 'I' },
    ]);

    await client.query('CREATE TEMP TABLE wire_t (id int PRIMARY KEY, v text)');
    await client.query("INSERT INTO wire_t VALUES (1, 'a')");
    mark = records.length;
    await client.query('BEGIN');
    await client.query('UPDATE wire_t SET v = $1 WHERE id = $2', ['b', 1]);
    await client.query('COMMIT');
    const tx = conversation(records.slice(mark), conn);
    expect(tx.filter((r) => r.kind === 'complete' || r.kind === 'ready')).toEqual([
      { kind: 'complete', commandTag: 'BEGIN' },
      { kind: 'ready', status: 'T' },
      { kind: 'complete', commandTag: 'UPDATE 1' },
      { kind: 'ready', status: 'T' },
      { kind: 'complete', commandTag: 'COMMIT' },
      { kind: 'ready', status: 'I' },
    ]);
    expect(tx.find((r) => r.kind === 'bind')).toEqual({ kind: 'bind', params: ['b', '1'] });

    mark = records.length;
    await client.query('BEGIN');
    await expect(client.query('SELECT 1/0')).rejects.toThrow(/division by zero/);
    await client.query('ROLLBACK');
    expect(conversation(records.slice(mark), conn).slice(3)).toEqual([
      { kind: 'query', sql: 'SELECT 1/0' },
      { kind: 'error', code: '22012', message: 'division by zero' },
      { kind: 'ready', status: 'E' },
      { kind: 'query', sql: 'ROLLBACK' },
      { kind: 'complete', commandTag: 'ROLLBACK' },
      { kind: 'ready', status: 'I' },
    ]);

    mark = records.length;
    const copy = new CopyFromStdin('COPY wire_t FROM STDIN', ['2\tsecret-two\n', '3\tsecret-three\n', '4\tsecret-four\n']);
    client.query(copy as unknown as pg.QueryConfig);
    await copy.done;
    expect(copy.commandTag).toBe('COPY 3');
    expect(conversation(records.slice(mark), conn)).toEqual([
      { kind: 'query', sql: 'COPY wire_t FROM STDIN' },
      { kind: 'copy', bytes: 42, message: 'done' },
      { kind: 'complete', commandTag: 'COPY 3' },
      { kind: 'ready', status: 'I' },
    ]);
    expect(JSON.stringify(records)).not.toContain('secret-');
    expect((await client.query('SELECT count(*)::int AS n FROM wire_t')).rows[0].n).toBe(4);

    await client.end();
    await waitFor('the close record', () => records.some((r) => r.conn === conn && r.kind === 'close'));
    expect(conversation(records, conn).slice(-2)).toEqual([{ kind: 'terminate' }, { kind: 'close', message: 'end' }]);
    for (let k = 1; k < records.length; k++) expect(records[k].t).toBeGreaterThan(records[k - 1].t);
  }, 20_000);

  it('records pipelined simple and extended queries in order', async () => {
    const { proxy, records } = await recordingProxy();
    const { socket, conn } = await rawSession(proxy.port, records);
    const mark = records.length;
    const extended = (sql: string, value: string) =>
      Buffer.concat([
        pgMsg('P', cstr(''), cstr(sql), int16(0)),
        pgMsg('B', cstr(''), cstr(''), int16(0), int16(1), int32(value.length), Buffer.from(value), int16(0)),
        pgMsg('E', cstr(''), int32(0)),
        pgMsg('S'),
      ]);
    socket.write(
      Buffer.concat([
        pgMsg('Q', cstr('SELECT 1; SELECT 2')),
        extended('SELECT $1::text', 'x'),
        pgMsg('Q', cstr('SELECT 3')),
        extended('SELECT $1::int', '4'),
      ]),
    );
    await waitFor('four ReadyForQuery', () => records.slice(mark).filter((r) => r.kind === 'ready').length === 4);
    expect(conversation(records.slice(mark), conn)).toEqual([
      { kind: 'query', sql: 'SELECT 1; SELECT 2' },
      { kind: 'parse', sql: 'SELECT $1::text' },
      { kind: 'bind', params: ['x'] },
      { kind: 'execute' },
      { kind: 'query', sql: 'SELECT 3' },
      { kind: 'parse', sql: 'SELECT $1::int' },
      { kind: 'bind', params: ['4'] },
      { kind: 'execute' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'ready', status: 'I' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'ready', status: 'I' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'ready', status: 'I' },
      { kind: 'complete', commandTag: 'SELECT 1' },
      { kind: 'ready', status: 'I' },
    ]);
    socket.end(pgMsg('X'));
  }, 15_000);

  it('answers an SSLRequest itself with N and forwards the startup that follows (record on or off)', async () => {
    for (const recording of [false, true]) {
      const records: SqlRecord[] = [];
      const proxy = await startFaultProxy({ upstreamHost: PG_HOST, upstreamPort: PG_PORT, ...(recording ? { record: (r: SqlRecord) => records.push(r) } : {}) });
      open.push(proxy);
      const socket = await connect(proxy.port);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write(SSL_REQUEST_BYTES.subarray(0, 3)); // a request split over two writes
      await new Promise((resolve) => setTimeout(resolve, 30));
      socket.write(SSL_REQUEST_BYTES.subarray(3));
      await waitFor('the answer', () => received.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 150)); // nothing else comes
      expect(Buffer.concat(received).toString('latin1')).toBe('N');
      socket.write(startupPacket('postgres', 'postgres'));
      await waitFor('AuthenticationOk', () => Buffer.concat(received).length > 1);
      expect(Buffer.concat(received)[1]).toBe('R'.charCodeAt(0));
      socket.end(pgMsg('X'));
      if (recording) {
        await waitFor('ready', () => records.some((r) => r.kind === 'ready'));
        expect(records.slice(0, 3).map((r) => [r.kind, r.message ?? r.user ?? r.status])).toEqual([
          ['ssl', 'SSLRequest'],
          ['startup', 'postgres'],
          ['ready', 'I'],
        ]);
      }
    }
  }, 15_000);

  it('node-postgres without SSL works; with SSL required it is told the server has none, as directly', async () => {
    const proxy = await proxyToPg();
    const plain = new pg.Client({ host: proxy.host, port: proxy.port, user: 'postgres', database: 'postgres', ssl: false, connectionTimeoutMillis: 5000 });
    await plain.connect();
    open.push({ close: () => plain.end().catch(() => {}) });
    expect((await plain.query('SELECT 5 AS five')).rows[0].five).toBe(5);
    const attempt = async (port: number) => {
      const tls = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ssl: { rejectUnauthorized: false }, connectionTimeoutMillis: 5000 });
      tls.on('error', () => {});
      const outcome = await tls.connect().then(
        () => 'connected',
        (err: Error) => err.message,
      );
      await tls.end().catch(() => {});
      return outcome;
    };
    const direct = await attempt(PG_PORT);
    const proxied = await attempt(proxy.port);
    if (direct === 'connected') expect(proxied).toMatch(/does not support SSL/); // the proxy keeps traffic in the clear
    else expect(proxied).toBe(direct);
  }, 15_000);

  it.skipIf(!hasPsql())('psql with sslmode=prefer connects through the proxy in the clear', async () => {
    const { proxy, records } = await recordingProxy();
    const { stdout } = await execFileP('psql', ['-h', '127.0.0.1', '-p', String(proxy.port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'select 1'], {
      env: { ...process.env, PGSSLMODE: 'prefer', PGCONNECT_TIMEOUT: '5', PGPASSWORD: '' },
      timeout: 10_000,
    });
    expect(stdout.trim()).toBe('1');
    const conn = records.find((r) => r.kind === 'ssl')!.conn;
    const kinds = conversation(records, conn).map((r) => r.kind);
    expect(kinds.slice(0, 2)).toEqual(['ssl', 'startup']);
    expect(conversation(records, conn)).toContainEqual({ kind: 'query', sql: 'select 1' });
  }, 15_000);

  it('tagged TCP and Unix-socket listeners share the faults, tag their records, and clean up', async () => {
    const { proxy, records } = await recordingProxy();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-proxy-'));
    open.push({ close: () => fs.rmSync(dir, { recursive: true, force: true }) });
    const unixPath = path.join(dir, 'db.sock');
    const unix = await proxy.listen({ tag: 'setup', path: unixPath });
    expect(unix.path).toBe(unixPath);
    expect(fs.statSync(unixPath).mode & 0o777).toBe(0o666);
    const tcp = await proxy.listen({ tag: '0' });
    expect(tcp.host).toBe('127.0.0.1');
    expect(tcp.port).toBeGreaterThan(0);
    const native = await proxy.listen({ tag: 'fresh', path: path.join(dir, '.s.PGSQL.5999') }); // libpq's own layout

    const viaPath = new pg.Client({
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 5000,
      stream: () => {
        const socket = new net.Socket();
        const connectTo = socket.connect.bind(socket);
        // pg calls stream.connect(port, host): point it at the socket path instead
        (socket as unknown as { connect: () => net.Socket }).connect = () => connectTo({ path: unixPath });
        return socket;
      },
    });
    const viaDir = new pg.Client({ host: dir, port: 5999, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
    const viaTcp = new pg.Client({ host: tcp.host, port: tcp.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
    const plain = await clientVia(proxy);
    for (const client of [viaPath, viaDir, viaTcp]) {
      client.on('error', () => {});
      await client.connect();
      open.push({ close: () => client.end().catch(() => {}) });
    }
    await viaPath.query('SELECT 1 AS via_path');
    await viaDir.query('SELECT 1 AS via_dir');
    await viaTcp.query('SELECT 1 AS via_tcp');
    await plain.query('SELECT 1 AS via_default');
    const tagOf = (sql: string) => records.find((r) => r.kind === 'query' && r.sql === sql);
    expect(tagOf('SELECT 1 AS via_path')?.tag).toBe('setup');
    expect(tagOf('SELECT 1 AS via_dir')?.tag).toBe('fresh');
    expect(tagOf('SELECT 1 AS via_tcp')?.tag).toBe('0');
    expect(tagOf('SELECT 1 AS via_default')).toBeDefined();
    expect(tagOf('SELECT 1 AS via_default')!.tag).toBeUndefined();
    expect(new Set(records.filter((r) => r.kind === 'startup').map((r) => r.conn)).size).toBe(4);

    // faults apply to every listener's connections
    expect(proxy.connections()).toBe(4);
    proxy.setLatency(60, 0);
    const t0 = performance.now();
    await viaPath.query('SELECT 2');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(118);
    proxy.clearLatency();
    expect(proxy.resetAll()).toBe(4);
    expect(records.filter((r) => r.kind === 'close').map((r) => [r.tag, r.message]).sort()).toEqual(
      [['0', 'reset'], ['fresh', 'reset'], ['setup', 'reset'], [undefined, 'reset']].sort(),
    );

    // closing a listener removes its socket file and refuses new connections there; the proxy closes the rest
    await native.close();
    await native.close();
    expect(fs.existsSync(path.join(dir, '.s.PGSQL.5999'))).toBe(false);
    await proxy.close();
    expect(fs.existsSync(unixPath)).toBe(false);
    await expect(connect(tcp.port!)).rejects.toThrow();
    await expect(new Promise((resolve, reject) => net.connect(unixPath).on('connect', resolve).on('error', reject))).rejects.toThrow();
  }, 20_000);

  it('replaces a stale Unix socket file but refuses a live one', async () => {
    const { proxy } = await recordingProxy();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gx-proxy-'));
    open.push({ close: () => fs.rmSync(dir, { recursive: true, force: true }) });
    const socketPath = path.join(dir, 'db.sock');
    const first = await proxy.listen({ tag: 'a', path: socketPath });
    await expect(proxy.listen({ tag: 'b', path: socketPath })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
    // a process killed while listening leaves its socket file behind
    const child = spawn(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", socketPath], { stdio: ['ignore', 'pipe', 'ignore'] });
    open.push({ close: () => child.kill('SIGKILL') });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(fs.existsSync(socketPath)).toBe(true);
    const second = await proxy.listen({ tag: 'c', path: socketPath });
    expect(second.path).toBe(socketPath);
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o666);
  }, 15_000);

  it('garbage from a client does not crash the proxy: one garbage record, other connections keep working', async () => {
    const { proxy, records } = await recordingProxy();
    const client = await clientVia(proxy);
    // garbage before the startup packet
    const http = await connect(proxy.port);
    http.on('error', () => {});
    const httpClosed = new Promise((resolve) => http.on('close', resolve));
    http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await httpClosed;
    // garbage after a good startup
    const { socket, conn } = await rawSession(proxy.port, records);
    const rawClosed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(Buffer.from([0x07, 0, 0, 0, 8, 1, 2, 3, 4, 0x51, 0, 0, 0, 2]));
    await rawClosed;
    await waitFor('both close records', () => records.filter((r) => r.kind === 'close').length === 2);
    const garbage = records.filter((r) => r.kind === 'garbage');
    expect(garbage).toHaveLength(2);
    expect(garbage.map((r) => r.message)).toEqual([expect.stringMatching(/startup packet length/), expect.stringMatching(/unknown message type 0x07/)]);
    expect(garbage[1].conn).toBe(conn);
    expect(conversation(records, conn).map((r) => r.kind)).toEqual(['startup', 'ready', 'garbage', 'error', 'close']);
    expect((await client.query('SELECT 7 AS seven')).rows[0].seven).toBe(7);
    expect(proxy.connections()).toBe(1);
  }, 15_000);

  it('resetAll and a healed blackhole close the decoders with a close record', async () => {
    const { proxy, records } = await recordingProxy();
    const client = await clientVia(proxy);
    const conn = records.find((r) => r.kind === 'startup')!.conn;
    const inFlight = client.query('SELECT pg_sleep(2)');
    inFlight.catch(() => {});
    await waitFor('the query record', () => records.some((r) => r.kind === 'query' && r.sql === 'SELECT pg_sleep(2)'));
    expect(proxy.resetAll()).toBe(1);
    await expect(inFlight).rejects.toThrow();
    expect(conversation(records, conn).at(-1)).toEqual({ kind: 'close', message: 'reset' });

    const second = await clientVia(proxy);
    const secondConn = records.filter((r) => r.kind === 'startup').at(-1)!.conn;
    expect(secondConn).toBeGreaterThan(conn);
    proxy.blackhole(true);
    const hung = second.query('SELECT 1 AS lost');
    hung.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(records.some((r) => r.sql === 'SELECT 1 AS lost')).toBe(false); // dropped bytes are not recorded
    expect(proxy.blackhole(false)).toBe(1);
    await expect(hung).rejects.toThrow();
    expect(conversation(records, secondConn).at(-1)).toEqual({ kind: 'close', message: 'reset' });
    expect(records.filter((r) => r.kind === 'close')).toHaveLength(2);
  }, 15_000);
});
