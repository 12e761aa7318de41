// gatehouse/resource-server as another project sees it: installed (a symlink in its
// node_modules, as `npm install ../gatehouse` makes), imported by name through package.json
// "exports", and type-checked against the declarations the build writes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { ensureSdkBuilt } from './built-sdk.ts';

describe('gatehouse/resource-server from an outside project', () => {
  let project: string;

  before(() => {
    ensureSdkBuilt();
    project = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-consumer-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(PACKAGE_ROOT, join(project, 'node_modules', 'gatehouse'), 'dir');
    // The consumer's own dependencies: its web framework and the types it compiles with.
    for (const dependency of ['fastify', 'express', '@types']) {
      symlinkSync(
        join(PACKAGE_ROOT, 'node_modules', dependency),
        join(project, 'node_modules', dependency),
        'dir',
      );
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', type: 'module', private: true }),
    );
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  it('imports the built SDK by package name', () => {
    writeFileSync(
      join(project, 'main.mjs'),
      `import * as sdk from 'gatehouse/resource-server';
const verifier = sdk.createVerifier({ issuer: 'https://id.example', audience: 'api' });
const error = new sdk.ResourceServerError('token_expired', 'x');
console.log(JSON.stringify({
  exports: Object.keys(sdk).sort(),
  verify: typeof verifier.verify,
  status: error.status,
}));`,
    );
    const out = JSON.parse(
      execFileSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8' }),
    );
    assert.deepEqual(out, {
      exports: [
        'ResourceServerError',
        'createVerifier',
        'expressAuth',
        'expressRequireScope',
        'fastifyAuth',
        'fastifyRequireScope',
      ],
      verify: 'function',
      status: 401,
    });
  });

  it('exports nothing else of the package (the server code stays private)', () => {
    writeFileSync(join(project, 'deep.mjs'), "await import('gatehouse/dist/main.js');");
    assert.throws(
      () => execFileSync(process.execPath, ['deep.mjs'], { cwd: project, stdio: 'pipe' }),
      /ERR_PACKAGE_PATH_NOT_EXPORTED/,
    );
  });

  it('type-checks against the declarations, Fastify and Express augmentations included', () => {
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          // Our declarations are checked too, not only their use.
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    const consumer = `import express from 'express';
import Fastify from 'fastify';
import {
  createVerifier,
  expressAuth,
  fastifyAuth,
  ResourceServerError,
  type AccessTokenClaims,
} from 'gatehouse/resource-server';

const verifier = createVerifier({ issuer: 'https://id.example', audience: 'api', algorithms: ['EdDSA'] });
export async function check(token: string): Promise<number | undefined> {
  try {
    const claims: AccessTokenClaims = await verifier.verify(token);
    const scopes: readonly string[] = claims.scope;
    return scopes.length > 0 ? claims.userId : undefined;
  } catch (error) {
    if (error instanceof ResourceServerError && error.code === 'token_expired') return undefined;
    throw error;
  }
}
// @ts-expect-error symmetric algorithms are not accepted
createVerifier({ issuer: 'https://id.example', audience: 'api', algorithms: ['HS256'] });

const app = Fastify();
await app.register(fastifyAuth, { verifier });
app.get('/admin', { preHandler: app.requireScope('admin') }, async (request) => ({ sub: request.auth?.sub }));

const server = express();
const auth = expressAuth({ verifier, realm: 'api' });
server.use(auth);
server.get('/admin', auth.requireScope('admin'), (req, res) => {
  res.json({ sub: req.auth?.sub });
});
`;
    writeFileSync(join(project, 'consumer.ts'), consumer);
    const tsc = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeCheck = () =>
      execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, stdio: 'pipe' });
    try {
      typeCheck();
    } catch (error) {
      assert.fail(`tsc: ${String((error as { stdout?: Buffer }).stdout)}`);
    }
    // And the check can fail: a wrong claim type is an error.
    writeFileSync(
      join(project, 'consumer.ts'),
      `${consumer}\nexport const wrong: string = (null as unknown as AccessTokenClaims).userId;\n`,
    );
    assert.throws(typeCheck, (error: { stdout: Buffer }) => /TS2322/.test(error.stdout.toString()));
  });
});
