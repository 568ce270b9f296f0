// HTTP-mode instances (any language, so no permission model of Node's) under bubblewrap when it is installed:
// a network namespace with only loopback (bwrap brings it up), a PID namespace (the harness and other processes
// are invisible and out of signal's reach), and a read-only view of the machine in which the instance's own temp
// folder is the only writable place and the run store, the run folders and other temp folders are empty.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTool } from './netns.ts';

let probed: { path: string } | { problem: string } | null = null;

/** bubblewrap, if it is installed and can make its namespaces here (probed once). */
export function bubblewrap(): { path: string } | { problem: string } {
  if (probed) return probed;
  const bwrap = findTool('bwrap');
  if (!bwrap) return (probed = { problem: 'bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)' });
  const r = spawnSync(bwrap, ['--unshare-net', '--unshare-pid', '--die-with-parent', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', '/bin/sh', '-c', 'exit 0'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8' });
  probed = r.status === 0 ? { path: bwrap } : { problem: `bwrap cannot make its namespaces here: ${(r.stderr || `exit ${r.status}`).trim().split('\n')[0]}` };
  return probed;
}

export interface BwrapView {
  /** The instance's own temp folder: the one writable place. */
  writable: string;
  /** Folders it must read (the bridge script's). */
  readable: string[];
  /** Folders that appear empty (the run folders, the run store's folder). */
  hidden: string[];
  cwd: string;
}

/**
 * The node_modules folders Node would search from `cwd` upwards: a submission under a hidden folder (a checkout in
 * /tmp) still finds the dependencies installed above it.
 */
function ancestorModules(cwd: string): string[] {
  const found: string[] = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const modules = path.join(dir, 'node_modules');
    if (fs.existsSync(modules)) found.push(fs.realpathSync(modules));
    if (path.dirname(dir) === dir) break;
  }
  return found;
}

/** The argv that runs `command` under bubblewrap with the view above. */
export function bwrapArgv(bwrap: string, view: BwrapView, command: string[]): string[] {
  const argv = [bwrap, '--unshare-net', '--unshare-pid', '--die-with-parent', '--new-session', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  // Other instances' and grades' temp folders vanish under an empty tmpfs; then what this one needs comes back.
  for (const dir of new Set([os.tmpdir(), '/tmp'])) argv.push('--tmpfs', dir);
  for (const dir of view.hidden) argv.push('--tmpfs', dir);
  for (const dir of [...view.readable, ...ancestorModules(view.cwd)]) argv.push('--ro-bind', dir, dir);
  argv.push('--bind', view.writable, view.writable, '--chdir', view.cwd, '--', ...command);
  return argv;
}
