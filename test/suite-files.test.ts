// What `npm test` collects: gauntlet's own test files, never a package's. A stack fixture's installed packages
// (fixtures/stacks/*/node_modules, e.g. Prisma's @electric-sql/pglite-socket) ship test files of their own; once
// they were collected, a second `npm test` ran 21 foreign files (about 100 s), could fail on them, and left two
// pglite servers (tsx processes) running after it ended.

import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// A folder of this test's own, named without a dot (the collector skips dot folders anyway, which would prove nothing).
const decoys = path.resolve('test', `decoy-files-${process.pid}`);

afterAll(() => fs.rmSync(decoys, { recursive: true, force: true }));

describe('npm test collects', () => {
  it('no test file inside a node_modules folder, at any depth, and an ordinary one beside it', () => {
    const body = "import { it } from 'vitest';\nit('is never run', () => { throw new Error('a decoy of test/suite-files.test.ts was run'); });\n";
    const nested = path.join(decoys, 'stack', 'node_modules', 'some-package', 'tests', 'inside.test.ts');
    const beside = path.join(decoys, 'stack', 'outside.test.ts');
    for (const f of [nested, beside]) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, body);
    }
    const r = spawnSync(process.execPath, [path.resolve('node_modules/vitest/vitest.mjs'), 'list', path.relative(process.cwd(), decoys), '--filesOnly', '--json'], { encoding: 'utf8', timeout: 60_000 });
    // One entry per file and project ({ file, projectName }): npm test's groups are vitest projects.
    const listed = (JSON.parse(r.stdout || '[]') as { file: string }[]).map((e) => path.resolve(e.file));
    expect(listed, r.stderr).toContain(beside);
    expect(listed).not.toContain(nested);
    fs.rmSync(decoys, { recursive: true, force: true });
  }, 90_000);

  it('every test file of the repository once, in one of its three groups (unit, unit-timing, integration)', async () => {
    const { UNIT_FILES, TIMING_FILES } = await import('../vitest.unit.config.ts');
    const r = spawnSync(process.execPath, [path.resolve('node_modules/vitest/vitest.mjs'), 'list', '--filesOnly', '--json'], { encoding: 'utf8', timeout: 60_000 });
    const listed = (JSON.parse(r.stdout || '[]') as { file: string; projectName: string }[]).map((e) => ({ file: path.relative(process.cwd(), path.resolve(e.file)), project: e.projectName }));
    const tracked = spawnSync('git', ['ls-files', '*.test.ts'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(listed.map((e) => e.file).sort()).toEqual(tracked.sort());
    for (const { file, project } of listed) expect(project, file).toBe(TIMING_FILES.includes(file) ? 'unit-timing' : UNIT_FILES.includes(file) ? 'unit' : 'integration');
  }, 90_000);
});
