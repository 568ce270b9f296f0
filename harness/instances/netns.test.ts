// Network containment end to end, without a grade: a process started in its own namespace (netns.ts) reaches an
// endpoint the harness opened for it (wire-gate.ts → Unix socket → net-bridge.ts on its loopback), and nothing
// else of 127.0.0.1 — not a server listening on the machine's loopback, not the machine's PostgreSQL. Only
// loopback is ever tried. Skipped (with the reason checked) where namespaces cannot be had.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { containment, wrap } from './netns.ts';
import { openGate, relayEndpoint, type Gate } from './wire-gate.ts';
import { BRIDGE_ENV } from './net-bridge.ts';
import { bridgeScript } from './net-bridge-script.ts';
import { instanceUser } from './instance-process.ts';

/** A TCP server on the machine's loopback that answers every connection with its name. */
function namedServer(name: string): Promise<{ server: net.Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = net.createServer((c) => {
    hits++;
    c.end(name);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, hits: () => hits })));
}

/** Run `script` with node inside a namespace, the bridge running beside it; resolves with its stdout. */
async function runContained(script: string, env: Record<string, string>, dir: string, strategy?: 'netns' | 'userns'): Promise<{ code: number | null; out: string; err: string }> {
  const probed = containment(await instanceUser());
  if (probed.network !== 'contained') throw new Error('not contained');
  const c = { ...probed, strategy: strategy ?? probed.strategy };
  const ready = path.join(dir, 'bridge.ready');
  fs.rmSync(ready, { force: true });
  const argv = ['/bin/sh', '-c', '"$0" "$1" "$3" & while [ ! -e "$3" ]; do sleep 0.02; done; "$0" -e "$2"; s=$?; kill $! 2>/dev/null; exit $s', process.execPath, await bridgeScript(), script, ready];
  const runAs = await instanceUser();
  const wrapped = wrap(c, argv, runAs);
  return new Promise((resolve, reject) => {
    const child = spawn(wrapped[0], wrapped.slice(1), { env: { PATH: process.env.PATH ?? '', ...env }, cwd: dir, ...(c.strategy === 'userns' ? runAs ?? {} : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`timed out: ${out} ${err}`))), 20_000);
    child.on('exit', (code) => (clearTimeout(timer), resolve({ code, out, err })));
  });
}

const CLIENT = `
const net = require('net');
const ports = JSON.parse(process.env.PORTS);
Promise.all(ports.map((port) => new Promise((resolve) => {
  const s = net.connect({ host: '127.0.0.1', port });
  let got = '';
  s.on('data', (d) => (got += d));
  s.on('end', () => resolve(port + '=' + got));
  s.on('error', (e) => resolve(port + '=' + e.code));
}))).then((r) => console.log(r.join(' ')));
`;

describe('network containment (network namespaces)', () => {
  const here = () => containment(null);
  let dir: string;
  let gate: Gate | null = null;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-netns-test-'));
    fs.chmodSync(dir, 0o777);
  });
  afterAll(async () => {
    await gate?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is available here, or says why not', () => {
    const c = here();
    if (c.network === 'open') expect(c.reason.length).toBeGreaterThan(10);
    else expect(['netns', 'userns']).toContain(c.strategy);
  });

  it('reaches the endpoints it was given and nothing else on 127.0.0.1', async (ctx) => {
    if (containment(await instanceUser()).network !== 'contained') return ctx.skip();
    const allowed = await namedServer('allowed');
    const forbidden = await namedServer('forbidden');
    try {
      gate = await openGate([relayEndpoint('allowed', '127.0.0.1', allowed.port)], dir, 'test');
      const r = await runContained(CLIENT, { [BRIDGE_ENV]: JSON.stringify(gate.spec), PORTS: JSON.stringify([allowed.port, forbidden.port, 5432, 6379]) }, dir);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe(`${allowed.port}=allowed ${forbidden.port}=ECONNREFUSED 5432=ECONNREFUSED 6379=ECONNREFUSED`);
      expect(allowed.hits()).toBe(1);
      expect(forbidden.hits()).toBe(0);
    } finally {
      await gate?.close();
      gate = null;
      allowed.server.close();
      forbidden.server.close();
    }
    // The gate removed its sockets.
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.sock'))).toEqual([]);
  }, 30_000);

  it('as a normal user: an unprivileged user namespace contains the same way', async (ctx) => {
    const runAs = await instanceUser();
    // Only where the harness is root and can be someone else (as a normal user the probe already picks userns).
    if (containment(runAs).network !== 'contained' || !runAs) return ctx.skip();
    const allowed = await namedServer('allowed');
    const forbidden = await namedServer('forbidden');
    try {
      gate = await openGate([relayEndpoint('allowed', '127.0.0.1', allowed.port)], dir, 'test');
      const r = await runContained(CLIENT, { [BRIDGE_ENV]: JSON.stringify(gate.spec), PORTS: JSON.stringify([allowed.port, forbidden.port]) }, dir, 'userns');
      if (r.code !== 0 && /Operation not permitted|unshare failed/.test(r.err)) return ctx.skip(); // user namespaces disabled here
      expect(r.out.trim(), r.err).toBe(`${allowed.port}=allowed ${forbidden.port}=ECONNREFUSED`);
    } finally {
      await gate?.close();
      gate = null;
      allowed.server.close();
      forbidden.server.close();
    }
  }, 30_000);

  it('the same process without a namespace does reach the other server (the test can fail)', async () => {
    const forbidden = await namedServer('forbidden');
    try {
      const out = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['-e', CLIENT], { env: { PORTS: JSON.stringify([forbidden.port]) } });
        let text = '';
        child.stdout.on('data', (d) => (text += d));
        child.on('exit', () => resolve(text.trim()));
      });
      expect(out).toBe(`${forbidden.port}=forbidden`);
    } finally {
      forbidden.server.close();
    }
  });
});
