import type { Measured } from './scenarios.ts';

export interface Target {
  what: string;
  value: number;
  goal: number;
  unit: string;
  /** The value must stay at or under the goal (latency, memory), not reach it. */
  lower?: boolean;
}

export interface Report {
  date: string;
  machine: string;
  store: string;
  durationSeconds: number;
  argon2LimitPerSecond: number;
  peakRssMb: number;
  results: Measured[];
  targets: Target[];
}

export function passed(target: Target): boolean {
  return target.lower ? target.value <= target.goal : target.value >= target.goal;
}

const n = (value: number, digits = 0) => value.toFixed(digits);

export function markdownReport(report: Report): string {
  const rows = report.results.map(
    (r) =>
      `| ${r.name} | ${r.connections} | ${n(r.rps)} | ${n(r.p50, 1)} | ${n(r.p99, 1)} | ${r.non2xx + r.errors} | ${n(r.cpuPerRequestMs ?? 0, 3)} |`,
  );
  const targets = report.targets.map(
    (t) =>
      `| ${t.what} | ${n(t.value, t.unit === 'ratio' || t.unit === '×' ? 2 : 1)} ${t.unit} | ${passed(t) ? 'PASS' : 'MISS'} |`,
  );
  return [
    `Run ${report.date} on ${report.machine}; store ${report.store}; ${report.durationSeconds} s per scenario.`,
    `Raw argon2id limit: ${n(report.argon2LimitPerSecond, 1)} verifications/s; server peak RSS ${n(report.peakRssMb, 1)} MB.`,
    '',
    '| scenario | connections | req/s | p50 ms | p99 ms | non-2xx + errors | server CPU ms/req |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targets,
    '',
  ].join('\n');
}
