// `gauntlet init <dir>`: a candidate starter kit — one stub per challenge written against the contract, the
// contract's types in a local declaration file (so `import type ... from 'gauntlet'` type-checks without
// installing anything), and a short README on how to grade it.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type TS from 'typescript';
import { UsageError } from '../errors.ts';
import { gauntletDeclarations } from '../gauntlet-module.ts';
import { challenges, contractFiles } from '../../challenges/index.ts';

const README = `# My gauntlet submission

One module per challenge; each exports \`setup\` (optional), a default \`create(ctx)\` returning the service,
and \`close\` (optional). The types are in \`gauntlet.d.ts\` (\`import type ... from 'gauntlet'\`).

Grade it (from a clone of gauntlet, after \`npm install\` there):

    npx gauntlet grade /path/to/this/folder --profile quick        # practice: fast, explains failures
    npx gauntlet grade /path/to/this/folder                        # the standard grade
    npx gauntlet grade /path/to/this/folder --challenge seat-reservation --seed 7

You may import \`pg\`, \`ioredis\` and Node built-ins without installing them; anything else from your own
node_modules. TypeScript runs as it is, without a build step. A missing file means "not attempted".
Every run is stored under \`.gauntlet/runs/\`: the history of every call, each instance's log and the result.
`;

export function writeStarterKit(dir: string): string[] {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new UsageError(`${dir} is not empty`, 'choose a new folder for the starter kit');
  fs.mkdirSync(dir, { recursive: true });
  const ts = createRequire(import.meta.url)('typescript') as typeof TS;
  const files: Record<string, string> = {};
  // One stub per registered challenge, and the contract's types as the challenges declare them.
  for (const c of challenges) files[`${c.file}.ts`] = c.starter;
  files['gauntlet.d.ts'] = gauntletDeclarations(ts, (f) => fs.readFileSync(f, 'utf8'), contractFiles());
  files['tsconfig.json'] = JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true } }, null, 2) + '\n';
  files['README.md'] = README;
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return Object.keys(files);
}
