#!/usr/bin/env node
// The `gauntlet` executable: registers tsx so the TypeScript sources run without a build step, then runs the CLI.
import { register } from 'tsx/esm/api';
register();
await import('./gauntlet.ts');
