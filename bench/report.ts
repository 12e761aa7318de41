import type { Measured } from './scenarios.ts';

export interface Target {
  what: string;
  value: number;
  goal: number;
  unit: string;
  /** The value must stay at or under the goal (latency, memory), not reach it. */
  lower?: boolean;
  /** With `lower`: strictly under the goal ("< 10 ms"), not at it. */
  strict?: boolean;
  /**
   * The same ratio from server CPU time per request instead of requests/s: what it would be on
   * a machine where the server had its cores to itself. Informative; PASS/MISS uses `value`.
   */
  byCpu?: number;
  /** A figure shown beside a target for comparison, with no goal of its own: no PASS/MISS. */
  reported?: boolean;
}

export interface Report {
  date: string;
  machine: string;
  store: string;
  durationSeconds: number;
  /** How many times each compared pair was measured, in turn (bench/rounds.ts). */
  rounds: number;
  argon2LimitPerSecond: number;
  argon2CpuMsPerVerification: number;
  peakRssMb: number;
  /** 1/5/15-minute load averages before and after: a busy machine shows here. */
  loadAverage: { start: number[]; end: number[] };
  results: Measured[];
  targets: Target[];
  /** What the run skipped, and why. */
  notes: string[];
}

export function passed(target: Target): boolean {
  if (!target.lower) return target.value >= target.goal;
  return target.strict ? target.value < target.goal : target.value <= target.goal;
}

const n = (value: number, digits = 0) => value.toFixed(digits);

export function markdownReport(report: Report): string {
  const rows = report.results.map(
    (r) =>
      `| ${r.name} | ${r.connections} | ${n(r.rps)} | ${n(r.p50, 1)} | ${n(r.p99, 1)} | ${r.non2xx + r.errors} | ${n(r.cpuPerRequestMs ?? 0, 3)} | ${n(r.loadCpuPerRequestMs ?? 0, 3)} |`,
  );
  const targets = report.targets.map(
    (t) =>
      `| ${t.what} | ${n(t.value, t.unit === 'ratio' || t.unit === '×' ? 2 : 1)} ${t.unit} | ${t.reported ? 'reported' : passed(t) ? 'PASS' : 'MISS'} | ${t.byCpu === undefined ? '' : n(t.byCpu, 2)} |`,
  );
  return [
    `Run ${report.date} on ${report.machine}; store ${report.store}; ${report.durationSeconds} s per scenario and round; compared pairs measured in turn, ${report.rounds} rounds.`,
    `Raw argon2id limit: ${n(report.argon2LimitPerSecond, 1)} verifications/s (${n(report.argon2CpuMsPerVerification, 2)} CPU ms each); server peak RSS ${n(report.peakRssMb, 1)} MB.`,
    `Load average (1 min) ${n(report.loadAverage.start[0] ?? 0, 2)} before, ${n(report.loadAverage.end[0] ?? 0, 2)} after.`,
    '',
    '| scenario | connections | req/s | p50 ms | p99 ms | non-2xx + errors | server CPU ms/req | load generator CPU ms/req |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| target | measured | | same ratio by server CPU ms/req |',
    '|---|---|---|---|',
    ...targets,
    '',
    ...report.notes.map((note) => `- ${note}`),
    ...(report.notes.length > 0 ? [''] : []),
  ].join('\n');
}
