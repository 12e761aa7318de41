import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../bench/report.ts';

// CI proves the benchmark still runs end to end; its figures are never asserted here.
describe('npm run bench:smoke', () => {
  it('measures every scenario and both baselines, and writes JSON and Markdown', () => {
    const out = mkdtempSync(join(tmpdir(), 'gatehouse-bench-smoke-'));
    try {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out],
        {
          encoding: 'utf8',
          timeout: 240_000,
        },
      );
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(readFileSync(join(out, 'bench-smoke.json'), 'utf8')) as Report;
      const names = new Set(report.results.map((r) => `${r.name}@${r.connections}`));
      for (const expected of [
        'floor: node:http + HS256@32',
        'ceiling: Fastify route + HS256 + SQLite read@32',
        'me (valid token)@32',
        'me (valid token)@128',
        'me (invalid token)@32',
        'introspect (active token)@32',
        'password grant@8',
        'password grant@32',
        'refresh grant@32',
        'register@32',
        'me during login flood@32',
        'password grant (flood)@64',
        'me (1000 users)@32',
        'password grant (1000 users)@32',
        'me (2 workers)@32',
        'floor: node:http + EdDSA@32',
        'me (EdDSA, repeated token (cache))@32',
        'floor: node:http + HS256, distinct tokens@32',
        'me (HS256, distinct tokens)@32',
        'floor: node:http + EdDSA, distinct tokens@32',
        'me (EdDSA, distinct tokens)@32',
        'me (unknown-kid flood)@32',
      ]) {
        assert.ok(names.has(expected), `missing ${expected}`);
      }
      // The ceiling accepts its token (its session read finds the row); the forged
      // token is refused every time.
      const ceiling = report.results.find((r) => r.name.startsWith('ceiling'))!;
      assert.equal(ceiling.non2xx + ceiling.errors, 0, 'the ceiling accepts its token');
      const forged = report.results.find((r) => r.name === 'me (invalid token)')!;
      assert.equal(forged.non2xx, forged.requests, 'every forged token answers 401');
      const flood = report.results.find((r) => r.name === 'me (unknown-kid flood)')!;
      assert.equal(flood.non2xx, flood.requests, 'every unknown kid answers 401');
      for (const result of report.results) {
        assert.ok(result.requests > 0, `${result.name} made no requests`);
        assert.ok(result.cpuPerRequestMs! > 0, `${result.name}: no server CPU measured`);
        assert.ok(result.loadCpuPerRequestMs! > 0, `${result.name}: no load generator CPU`);
      }
      // The pools are real Gatehouse tokens, and each floor verifies the same ones.
      for (const result of report.results.filter((r) => r.name.includes('distinct tokens')))
        assert.equal(result.non2xx + result.errors, 0, `${result.name}: a token was refused`);
      assert.equal(
        report.results.find((r) => r.name === 'refresh grant')!.non2xx,
        0,
        'every refresh in the rotation succeeds',
      );
      assert.ok(report.argon2LimitPerSecond > 0 && report.argon2CpuMsPerVerification > 0);
      assert.ok(report.peakRssMb > 0);
      assert.deepEqual(report.notes, [], 'the smoke skips nothing');
      assert.equal(report.targets.length, 17, 'every target in BENCHMARKS.md has a verdict');
      assert.match(
        readFileSync(join(out, 'bench-smoke.md'), 'utf8'),
        /\| target \| measured \| \|/,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
