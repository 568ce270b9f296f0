// Network containment on Linux: every instance process starts in a network namespace of its own, where only
// loopback exists (brought up by `ip`), so no port of the machine and no other address answers it; the bridge
// (net-bridge.ts) leads its endpoints out over Unix sockets. As root the namespace is made by `unshare --net` and
// the process then drops to the instance user with `setpriv`; as a normal user by an unprivileged user namespace
// (`unshare --user --map-root-user --net`). Which one works is probed once; where neither does (macOS, a container
// without the capability, no `unshare`/`ip`), the network stays open and the grade says so.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type Containment =
  | { network: 'contained'; strategy: 'netns' | 'userns'; tools: { unshare: string; ip: string; setpriv?: string } }
  | { network: 'open'; reason: string };

/** Where the sbin tools live even when PATH (a normal user's) leaves them out. */
const TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

export function findTool(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...TOOL_DIRS]) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

let probed: Containment | null = null;

/**
 * How instances are contained here (probed once per process). `GAUNTLET_NETWORK=open` skips containment (for
 * trusted code, or to compare); the result then says why the network is open.
 */
export function containment(runAs: { uid: number; gid: number } | null): Containment {
  if (process.env.GAUNTLET_NETWORK === 'open') return { network: 'open', reason: 'turned off (GAUNTLET_NETWORK=open / --allow-open-network with --no-contain)' };
  if (probed) return probed;
  probed = probe(runAs);
  return probed;
}

/** For tests: forget the probe. */
export function resetContainmentProbe(): void {
  probed = null;
}

function probe(runAs: { uid: number; gid: number } | null): Containment {
  if (process.platform !== 'linux') return { network: 'open', reason: `network namespaces are Linux-only (this is ${process.platform})` };
  const unshare = findTool('unshare');
  const ip = findTool('ip');
  if (!unshare) return { network: 'open', reason: 'no `unshare` here (util-linux)' };
  if (!ip) return { network: 'open', reason: 'no `ip` here (iproute2), which brings up loopback in the namespace' };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const problems: string[] = [];
  // A namespace must exist, have loopback up, and 127.0.0.1 must not reach the machine's ports (one we listen on).
  const check = `${JSON.stringify(process.execPath)} -e "const n=require('net');const s=n.createServer().listen(0,'127.0.0.1',()=>{s.close();process.exit(0)});s.on('error',()=>process.exit(3))"`;
  // GAUNTLET_NETNS_STRATEGY=userns: as root too, the way a normal user is contained (to try it).
  if (isRoot && process.env.GAUNTLET_NETNS_STRATEGY !== 'userns') {
    const setpriv = findTool('setpriv');
    if (setpriv) {
      const tools = { unshare, ip, setpriv };
      const argv = wrap({ network: 'contained', strategy: 'netns', tools }, ['/bin/sh', '-c', check], runAs);
      const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8' });
      if (r.status === 0) return { network: 'contained', strategy: 'netns', tools };
      problems.push(`unshare --net: ${(r.stderr || `exit ${r.status}`).trim().split('\n')[0]}`);
    } else problems.push('no `setpriv` (util-linux) to drop privileges inside the namespace');
  }
  const tools = { unshare, ip };
  const argv = wrap({ network: 'contained', strategy: 'userns', tools }, ['/bin/sh', '-c', check], null);
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8', ...(runAs ?? {}) });
  if (r.status === 0) return { network: 'contained', strategy: 'userns', tools };
  problems.push(`unshare --user --net: ${(r.stderr || `exit ${r.status}`).trim().split('\n')[0]}`);
  return { network: 'open', reason: `no network namespace could be made here (${problems.join('; ')})` };
}

/**
 * The argv that runs `command` inside a fresh network namespace with loopback up. With the `netns` strategy the
 * harness spawns it as root and `setpriv` drops to `runAs` before the command runs; with `userns` the harness
 * spawns it as `runAs` already (spawn's uid/gid).
 */
export function wrap(c: Extract<Containment, { network: 'contained' }>, command: string[], runAs: { uid: number; gid: number } | null): string[] {
  // The shell would pass its PWD on: an instance's environment holds only the contract's variables.
  const up = `unset PWD OLDPWD; ${c.tools.ip} link set lo up`;
  if (c.strategy === 'netns') {
    const drop = runAs ? `${c.tools.setpriv} --reuid=${runAs.uid} --regid=${runAs.gid} --clear-groups -- ` : '';
    return [c.tools.unshare, '--net', '--', '/bin/sh', '-c', `${up} && exec ${drop}"$0" "$@"`, ...command];
  }
  return [c.tools.unshare, '--user', '--map-root-user', '--net', '--', '/bin/sh', '-c', `${up} && exec "$0" "$@"`, ...command];
}
