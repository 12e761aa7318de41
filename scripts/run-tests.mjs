#!/usr/bin/env node
// The README's test command. Node 20's runner finds no tests from a bare run or a quoted
// glob (and exits 0), so this lists every test file explicitly and fails when there are none.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : [...findTests('src'), ...findTests('test')].sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const services = [
  ['GATEHOUSE_TEST_POSTGRES_URL', 'Postgres suites', 'postgres://postgres@127.0.0.1:5432/test'],
  ['GATEHOUSE_TEST_REDIS_URL', 'Redis suites', 'redis://127.0.0.1:6379'],
];
for (const [variable, what, example] of services) {
  if (process.env[variable]) {
    console.log(`run-tests: ${what} enabled (${variable} is set)`);
  } else if (process.env.GATEHOUSE_TEST_REQUIRE_SERVICES) {
    // CI sets this: there a skipped backend would be a green run that tested less.
    console.error(`run-tests: ${variable} is required (GATEHOUSE_TEST_REQUIRE_SERVICES is set)`);
    process.exit(1);
  } else {
    console.log(`run-tests: ${what} SKIPPED: set ${variable}=${example} to run them`);
  }
}

// The FastAPI example's suite (test/examples/) needs Debian's Python packages; under
// GATEHOUSE_TEST_REQUIRE_SERVICES the suite itself fails without them.
const python = spawnSync('/usr/bin/python3', ['-c', 'import fastapi, uvicorn, jwt'], {
  stdio: 'ignore',
});
if (python.status === 0) {
  console.log('run-tests: FastAPI example enabled (/usr/bin/python3 has fastapi, uvicorn, jwt)');
} else {
  console.log(
    'run-tests: FastAPI example SKIPPED: apt-get install python3-fastapi python3-uvicorn python3-jwt to run it',
  );
}

// The import suite's FastAPI-app database is made by Debian's SQLAlchemy and passlib.
const importPython = spawnSync('/usr/bin/python3', ['-c', 'import sqlalchemy, passlib, bcrypt'], {
  stdio: 'ignore',
});
if (importPython.status !== 0) {
  console.log(
    'run-tests: import --from-fastapi tests SKIPPED: apt-get install python3-sqlalchemy python3-passlib python3-bcrypt to run them',
  );
}

// The timeout is a guard against a hung file, not a speed target: on Node 20 it also bounds a whole
// file, and the CLI and bench-smoke files (dozens of child processes, each suite on two stores)
// took 100-120 s on a shared 2-core machine under load. Speed lives in `npm run bench`.
const result = spawnSync(
  process.execPath,
  ['--test', '--import', 'tsx', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
