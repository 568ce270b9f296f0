// The JUnit XML report (`--report junit`), for CI test tabs: one <testsuite> per scenario, one <testcase> per
// check (a failed check is a <failure> carrying its message and counterexample, an undecided one an <error>),
// skipped and not-attempted work as <skipped>, and a `gauntlet` suite with the verdict and the score gate.

import type { GradeResult } from '../../../rubric/result.ts';

/** XML text: escaped, and without characters XML 1.0 forbids. */
export function xml(s: unknown): string {
  return String(s ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const MAX_BODY = 8000;
const secs = (ms?: number) => ((ms ?? 0) / 1000).toFixed(3);

interface Case { name: string; classname: string; body: string }

export function renderJunit(r: GradeResult): string {
  const suites: { name: string; time: string; cases: Case[] }[] = [];
  for (const ch of r.challenges) {
    if (ch.status === 'not-attempted') {
      suites.push({ name: ch.id, time: '0', cases: [{ name: 'attempted', classname: `gauntlet.${ch.id}`, body: `<skipped message="${xml(`not attempted: no ${ch.id} module in the submission (scored 0)`)}"/>` }] });
      continue;
    }
    for (const s of ch.scenarios) {
      const classname = `gauntlet.${ch.id}.${s.id}`;
      const cases: Case[] = [];
      if (s.skipped) cases.push({ name: 'scenario', classname, body: `<skipped message="${xml(s.skipped)}"/>` });
      else if (s.error && !s.checks.length) cases.push({ name: 'scenario', classname, body: `<error message="${xml(s.error.split('\n')[0])}" type="${s.environmentError ? 'environment' : 'scenario'}">${xml(s.error.slice(0, MAX_BODY))}</error>` });
      for (const c of s.checks) {
        let body = '';
        if (c.passed === false) {
          const cx = c.counterexample === undefined ? '' : `\n\ncounterexample${c.violations && c.violations > 1 ? ` (${c.violations} violations)` : ''}:\n${JSON.stringify(c.counterexample, null, 2)}`;
          body = `<failure message="${xml(c.message)}" type="${xml(c.id)}">${xml((c.message + cx).slice(0, MAX_BODY))}</failure>`;
        } else if (c.passed === null) body = `<error message="${xml(c.message)}" type="undecided">${xml(c.message)}</error>`;
        else body = `<system-out>${xml(c.message)}</system-out>`;
        cases.push({ name: c.id, classname, body });
      }
      suites.push({ name: `${ch.id}/${s.id}`, time: secs(s.durationMs), cases });
    }
  }
  const gate: Case[] = [
    {
      name: 'verdict',
      classname: 'gauntlet',
      body: r.redFlags.length
        ? `<failure message="${xml(`rejected: ${r.redFlags.map((f) => f.id).join(', ')}`)}" type="red-flag">${xml(r.redFlags.map((f) => `${f.id} (${f.check}): ${f.evidence}`).join('\n'))}</failure>`
        : `<system-out>${xml(`verdict ${r.verdict}, score ${r.score.total}/100`)}</system-out>`,
    },
  ];
  if (r.minScore !== undefined) {
    gate.push({ name: 'min-score', classname: 'gauntlet', body: r.score.total < r.minScore ? `<failure message="${xml(`score ${r.score.total} is below --min-score ${r.minScore}`)}" type="min-score"/>` : `<system-out>${xml(`score ${r.score.total} ≥ ${r.minScore}`)}</system-out>` });
  }
  suites.push({ name: 'gauntlet', time: secs(r.durationMs), cases: gate });

  const count = (cases: Case[], tag: string) => cases.filter((c) => c.body.startsWith(`<${tag}`)).length;
  const all = suites.flatMap((s) => s.cases);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="gauntlet" tests="${all.length}" failures="${count(all, 'failure')}" errors="${count(all, 'error')}" skipped="${count(all, 'skipped')}" time="${secs(r.durationMs)}">`);
  for (const s of suites) {
    out.push(`  <testsuite name="${xml(s.name)}" tests="${s.cases.length}" failures="${count(s.cases, 'failure')}" errors="${count(s.cases, 'error')}" skipped="${count(s.cases, 'skipped')}" time="${s.time}"${r.startedAt ? ` timestamp="${xml(r.startedAt.replace(/\.\d+Z$/, ''))}"` : ''}>`);
    out.push(`    <properties><property name="submission" value="${xml(r.submission)}"/><property name="seed" value="${r.seed}"/><property name="profile" value="${r.profile}"/><property name="score" value="${r.score.total}"/><property name="verdict" value="${r.verdict}"/></properties>`);
    for (const c of s.cases) out.push(`    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="0">${c.body}</testcase>`);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
