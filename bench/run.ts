// npm run bench: Gatehouse's speed and footprint, as ratios to baselines measured in the same
// run (issue 7). See BENCHMARKS.md. What it measures and aims for is plan.ts; runner.ts
// measures it; report.ts prints it. This file reads the command line and writes the report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PlanOptions } from './plan.ts';
import { markdownReport } from './report.ts';
import { runBench } from './runner.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    store: { type: 'string', default: 'sqlite' },
    scale: { type: 'string' },
    workers: { type: 'string', default: '2' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results' },
  },
});
if (args.store !== 'sqlite' && args.store !== 'postgres') {
  throw new Error(`--store ${args.store}: expected sqlite or postgres`);
}
const smoke = args.smoke;
const plan: PlanOptions = {
  store: args.store,
  smoke,
  duration: smoke ? 1 : Number(args.duration),
  rounds: smoke ? 1 : 3,
  users: smoke ? 100 : 1000,
  scale: args.scale ? Number(args.scale) : smoke ? 1000 : 0,
  workers: Number(args.workers),
};

const report = await runBench(plan);
mkdirSync(args.out, { recursive: true });
const stem = join(args.out, smoke ? 'bench-smoke' : `bench-${plan.store}`);
writeFileSync(`${stem}.json`, JSON.stringify(report, null, 2));
writeFileSync(`${stem}.md`, markdownReport(report));
console.log(markdownReport(report));
console.error(`bench: wrote ${stem}.json and ${stem}.md`);
