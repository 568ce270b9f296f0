// The bridge inside a contained instance's network namespace, where nothing but loopback exists: it listens on
// 127.0.0.1 at the ports the instance's URLs name (the PostgreSQL and Redis proxies, the mock services) and
// carries each connection to the Unix socket the harness opened for that endpoint (Unix sockets cross network
// namespaces; TCP does not). Inbound, it carries the harness's connections from a Unix socket to the port an
// HTTP-mode server listens on. Module instances run it in-process (the runtime starts it before the candidate's
// module loads); HTTP-mode instances run it as a small process beside their server (net-bridge-main.ts).
//
// It holds no secret and opens no door: every path it leads to is one the harness chose for this instance.

import net from 'node:net';
import fs from 'node:fs';
import { abortSocket } from '../infra/abort-socket.ts';

export interface BridgeSpec {
  /** 127.0.0.1:port inside the namespace → the Unix socket at path (outside, the harness). */
  outbound: { port: number; path: string }[];
  /** The harness connects to `path`; each connection is carried to 127.0.0.1:port inside (HTTP mode). */
  inbound?: { path: string; port: number };
}

/** The environment variable that carries the spec to the instance (removed before candidate code runs). */
export const BRIDGE_ENV = 'GAUNTLET_NET_BRIDGE';

export function parseBridgeSpec(text: string | undefined): BridgeSpec | null {
  if (!text) return null;
  const spec = JSON.parse(text) as BridgeSpec;
  if (!Array.isArray(spec.outbound)) throw new Error(`${BRIDGE_ENV} has no outbound list`);
  return spec;
}

/** Join two sockets both ways; an abrupt close on one side is passed on as one (RST where possible). */
export function splice(a: net.Socket, b: net.Socket): void {
  a.setNoDelay?.(true);
  b.setNoDelay?.(true);
  a.pipe(b);
  b.pipe(a);
  const abort = (other: net.Socket) => () => abortSocket(other);
  a.on('error', abort(b));
  b.on('error', abort(a));
  a.on('close', () => b.destroyed || b.end());
  b.on('close', () => a.destroyed || a.end());
}

function listen(server: net.Server, where: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      server.on('error', () => {});
      resolve();
    });
  });
}

/** Start the outbound listeners (and, once its port answers, the inbound one). Resolves when the outbound ones listen. */
export async function startBridge(spec: BridgeSpec): Promise<{ inboundReady: Promise<void>; close(): void }> {
  const servers: net.Server[] = [];
  for (const { port, path } of spec.outbound) {
    const server = net.createServer({ allowHalfOpen: false }, (client) => {
      client.on('error', () => {});
      splice(client, net.connect({ path }));
    });
    servers.push(server);
    await listen(server, { port, host: '127.0.0.1' });
  }
  const inboundReady = spec.inbound ? startInbound(spec.inbound, servers) : Promise.resolve();
  return {
    inboundReady,
    close: () => servers.forEach((s) => s.close()),
  };
}

/** The inbound socket appears only once the server inside accepts connections: the harness waits for the file. */
async function startInbound(inbound: { path: string; port: number }, servers: net.Server[]): Promise<void> {
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: inbound.port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const server = net.createServer((client) => {
    client.on('error', () => {});
    splice(client, net.connect({ host: '127.0.0.1', port: inbound.port }));
  });
  servers.push(server);
  try {
    fs.unlinkSync(inbound.path);
  } catch {
    // not there yet
  }
  await listen(server, { path: inbound.path });
}
