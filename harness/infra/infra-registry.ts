// Tracks the scenario databases and Redis namespaces handed out per Infra, so Infra.close() can undo the
// ones a caller forgot (before it stops the servers they live on).

import type { Infra } from './types.ts';

type Undo = () => Promise<void>;

const held = new WeakMap<Infra, Set<Undo>>();

/** Remember `undo` for `infra`; returns the function that forgets it (call once it ran normally). */
export function track(infra: Infra, undo: Undo): () => void {
  let set = held.get(infra);
  if (!set) held.set(infra, (set = new Set()));
  set.add(undo);
  return () => set.delete(undo);
}

/** Run every remembered undo step (newest first); failures are collected, not thrown one by one. */
export async function undoAll(infra: Infra): Promise<Error[]> {
  const set = held.get(infra);
  if (!set) return [];
  const steps = [...set].reverse();
  set.clear();
  const errors: Error[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return errors;
}
