// The harness's side of a contained instance's bridge: for each endpoint the instance may reach (its scenario's
// PostgreSQL proxy, Redis, mock services), a Unix socket in the instance's own temp folder that leads there,
// tagged with the instance so what it sends is recorded as its own. An endpoint that can listen on a Unix
// socket itself (the fault proxy) does; any other is reached through a small relay here.

import net from 'node:net';
import path from 'node:path';
import { splice, type BridgeSpec } from './net-bridge.ts';
import { bindServer, closeServer } from '../nemesis/proxy-listeners.ts';

export interface WireEndpoint {
  /** A short name for the socket file (`pg`, `redis`, `payments` …). */
  name: string;
  /** The socket file's own name when a client expects one (PostgreSQL's `.s.PGSQL.<port>`); `<name>.sock` otherwise. */
  fileName?: string;
  /** The port the instance's URL names: the bridge listens on 127.0.0.1:<port> inside the namespace. */
  port: number;
  /** Open a Unix socket at `socketPath` leading to this endpoint, for instance `tag`; resolves to its closer. */
  open(socketPath: string, tag: string): Promise<() => Promise<void>>;
}

/** An endpoint reached by relaying each Unix connection to host:port (TCP). */
export function relayEndpoint(name: string, host: string, port: number): WireEndpoint {
  return {
    name,
    port,
    async open(socketPath) {
      const server = net.createServer((client) => {
        client.on('error', () => {});
        const upstream = net.connect({ host, port });
        splice(client, upstream);
      });
      server.on('error', () => {});
      // The proxies' own way to bind a Unix socket: mode 0666 (instances may run as nobody), a stale file replaced.
      await bindServer(server, { path: socketPath });
      return () => closeServer(server, socketPath);
    },
  };
}

export interface Gate {
  spec: BridgeSpec;
  /** Where the harness reaches the instance's HTTP server. */
  inboundPath: string;
  close(): Promise<void>;
}

/**
 * Open every endpoint's socket in `dir` for one instance process. The same port must not be named twice;
 * `httpPort` is the port an HTTP-mode server listens on inside (module instances listen on the Unix socket).
 */
export async function openGate(endpoints: WireEndpoint[], dir: string, tag: string, httpPort?: number): Promise<Gate> {
  const closers: (() => Promise<void>)[] = [];
  const outbound: BridgeSpec['outbound'] = [];
  try {
    for (const e of endpoints) {
      if (outbound.some((o) => o.port === e.port)) continue;
      const socketPath = path.join(dir, e.fileName ?? `${e.name}.sock`);
      closers.push(await e.open(socketPath, tag));
      outbound.push({ port: e.port, path: socketPath });
    }
  } catch (err) {
    await Promise.all(closers.map((c) => c().catch(() => {})));
    throw err;
  }
  const inboundPath = path.join(dir, 'http.sock');
  return {
    spec: { outbound, ...(httpPort ? { inbound: { path: inboundPath, port: httpPort } } : {}) },
    inboundPath,
    close: async () => {
      await Promise.all(closers.map((c) => c().catch(() => {})));
    },
  };
}
