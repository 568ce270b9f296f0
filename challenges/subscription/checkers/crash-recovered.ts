// crash-recovered: the purchases an instance was killed in the middle of (right after the gateway executed their
// charge) end whole: finished (active, exactly one kept charge, the one the subscription names) or compensated
// (no subscription, nothing kept), whether or not anybody called again. A call that retried one of them on another
// instance is answered with that outcome: the subscription, or PURCHASE_FAILED.

import type { Checker } from '../../../harness/scenario.ts';
import { brief, ms, pass, summarise, unknown } from '../../../harness/checkers/verdict.ts';
import { attributeCharges, createsByRequest, describeFinal, finalOf, finalStates, instanceLost, keptCharges, purchasesOf } from './model.ts';
import type { PurchaseValue } from '../operations.ts';

export const crashRecovered: Checker = {
  id: 'crash-recovered',
  check({ ops, data, ledger, instanceEvents }) {
    if (!ledger) return unknown('crash-recovered', 'no payment ledger was recorded for this scenario');
    const crashed = purchasesOf(data).filter((p) => p.group === 'crash-retried' || p.group === 'crash-abandoned');
    if (!crashed.length) return pass('crash-recovered', 'no purchase was interrupted by a crash in this scenario');
    const kills = instanceEvents.filter((e) => e.kind === 'killed');
    if (!kills.length) return unknown('crash-recovered', 'the scenario killed no instance, so recovery could not be judged (a gauntlet bug)');
    const finals = finalStates(ops);
    const creates = createsByRequest(ops);
    const { byRequest } = attributeCharges(ledger, crashed);
    const violations = [];
    let finished = 0;
    let compensated = 0;
    for (const p of crashed) {
      const rid = p.requestId;
      const f = finalOf(finals, rid);
      const charges = byRequest.get(rid) ?? [];
      const kept = keptCharges(charges);
      const calls = creates.get(rid) ?? [];
      const detail = {
        requestId: rid,
        group: p.group,
        final: describeFinal(f),
        charges,
        kills: kills.map((k) => ({ instance: k.instance, atMs: ms(k.atUs) })),
        calls: calls.map(brief),
      };
      const nobody = p.group === 'crash-abandoned' ? ' (nobody called again: the system had to do it by itself)' : '';
      let outcome: 'finished' | 'compensated' | null = null;
      if (f.kind === 'active' && kept.length === 1 && kept[0].id === f.value.chargeId) outcome = 'finished';
      else if (f.kind === 'none' && kept.length === 0) outcome = 'compensated';
      if (!outcome) {
        const state =
          f.kind === 'active'
            ? `it is active but keeps ${kept.length} charge(s)${kept.length ? ` (${kept.map((c) => c.id).join(', ')}; the subscription names ${f.value.chargeId})` : ''}`
            : `${describeFinal(f)}, yet ${kept.length ? `${kept.map((c) => `${c.id} (${c.amount})`).join(', ')} is still kept` : 'nothing is charged'}`;
        violations.push({ reason: `${rid} was interrupted by the crash and never ended whole${nobody}: ${state}`, ...detail });
        continue;
      }
      if (outcome === 'finished') finished++;
      else compensated++;
      for (const op of calls.filter((o) => o.phase === 'crash-retry')) {
        if (op.type === 'ok' && outcome === 'finished' && (op.value as PurchaseValue).id === (f as { value: PurchaseValue }).value.id) continue;
        if (op.type === 'fail' && op.code === 'PURCHASE_FAILED' && outcome === 'compensated') continue;
        if (op.type === 'info' && instanceLost(op, instanceEvents)) continue;
        const got = op.type === 'ok' ? `subscription ${(op.value as PurchaseValue).id}` : op.type === 'fail' ? op.code : `an error (${op.error ?? op.code ?? 'unknown'})`;
        violations.push({ reason: `the retry of ${rid} on instance ${op.instance} after the crash (op ${op.index}) was answered ${got}, but the purchase was ${outcome === 'finished' ? `finished as ${describeFinal(f)}` : 'compensated (PURCHASE_FAILED expected)'}`, ...detail });
      }
    }
    return summarise('crash-recovered', violations, `all ${crashed.length} purchase(s) interrupted by the crash ended whole (${finished} finished, ${compensated} compensated)`, (v) => v.reason);
  },
};
