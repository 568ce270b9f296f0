// Tests of the fault proxy against a real PostgreSQL (and a tiny echo server for ordering and backpressure):
// forwarding, added latency, resets mid-transaction, blackhole then heal, and a clean close.

import net from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { createRng } from '../seed.ts';

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
