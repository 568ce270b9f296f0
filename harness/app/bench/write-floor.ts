// The floor under the release skew on this machine: one tight loop of one-byte writes, one per open connection,
// to a server that does nothing, over the transport the burst used (loopback TCP, or the Unix sockets a contained
// instance is reached through). A burst's skew cannot be much smaller than this.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { median } from './support.ts';

export type FloorTransport = 'tcp' | 'unix';

/** Median over `reps` loops of `connections` one-byte writes, in ms (each write is a syscall that runs the receiver's side of the socket). */
export async function writeFloorMs(connections: number, transport: FloorTransport = 'tcp', reps = 5): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((c) => {
    c.on('data', () => {});
    c.on('error', () => {});
  });
  const dir = transport === 'unix' ? fs.mkdtempSync(path.join(os.tmpdir(), 'gauntlet-floor-')) : null;
  try {
    const where = dir ? { path: path.join(dir, 'floor.sock') } : { port: 0, host: '127.0.0.1' };
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(where, resolve));
    const to = dir ? { path: where.path! } : { port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' };
    for (let i = 0; i < connections; i++) {
      sockets.push(
        await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(to, () => resolve(s));
          if (!dir) s.setNoDelay(true);
          s.once('error', reject);
        }),
      );
    }
    const byte = Buffer.from('x');
    const loops: number[] = [];
    for (let r = 0; r < reps; r++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = process.hrtime.bigint();
      for (const s of sockets) s.write(byte);
      loops.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(loops);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
