import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { OPENAPI_VARIANTS } from '../support/openapi-document.ts';

type SecurityRequirement = Record<string, string[]>;
interface OperationObject {
  operationId?: string;
  security?: SecurityRequirement[];
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  info: { license?: { name?: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, OperationObject>>;
}

interface JsonResponse {
  content?: { 'application/json'?: { schema?: { properties?: Record<string, unknown> } } };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']);

function operationsOf(doc: OpenApiDocument) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
}

/** The `auth` column of docs/openapi.md for a security requirement list. */
function authOf(security: SecurityRequirement[] | undefined): string {
  if (security === undefined) return '(undeclared)';
  const alternatives = security.map((requirement) => {
    const entries = Object.entries(requirement);
    if (entries.length === 0) return 'none';
    return entries
      .map(([scheme, scopes]) => {
        if (scheme === 'OAuth2PasswordBearer') return ['Bearer', ...scopes].join(' ');
        if (scheme === 'ApiClientBasic') return 'Basic client';
        if (scheme === 'MetricsToken') return 'metrics token';
        return scheme;
      })
      .join(' and ');
  });
  return alternatives.length === 0 ? 'none' : alternatives.join(' or ');
}

/** The rows of docs/openapi.md's operation table: operationId, method, path, auth. */
async function documentedOperations(): Promise<string[][]> {
  const markdown = await readFile(new URL('../../docs/openapi.md', import.meta.url), 'utf8');
  return markdown
    .split('\n')
    .filter((line) => /^\| `\w+`/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, 5)
        .map((cell) => cell.trim().replace(/^`|`$/g, '')),
    );
}

async function documentOf(t: TestApp): Promise<OpenApiDocument> {
  const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  return response.json() as OpenApiDocument;
}

describe('the OpenAPI document, as client generators read it', () => {
  const variants = Object.entries(OPENAPI_VARIANTS);
  const apps: Record<string, TestApp> = {};
  before(async () => {
    for (const [name, env] of variants) apps[name] = await createTestApp({ env });
  });
  after(async () => {
    for (const t of Object.values(apps)) await t.close();
  });
  const defaults = () => apps[variants[0]![0]]!;

  it('gives every operation a unique camelCase operationId', async () => {
    const operations = operationsOf(await documentOf(defaults()));
    assert.ok(operations.length >= 40, `${operations.length} operations`);
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const [index, id] of ids.entries()) {
      const { method, path } = operations[index]!;
      assert.match(String(id), /^[a-z][a-zA-Z]+$/, `operationId of ${method} ${path}`);
    }
    assert.equal(new Set(ids).size, ids.length, `duplicates among ${ids.join(', ')}`);
  });

  it('names the operations, their paths and their auth as docs/openapi.md lists them', async () => {
    const served = operationsOf(await documentOf(defaults()))
      .map(({ method, path, operation }) => [
        String(operation.operationId),
        method,
        path,
        authOf(operation.security),
      ])
      .sort((a, b) => a[0]!.localeCompare(b[0]!));
    const documented = (await documentedOperations()).sort((a, b) => a[0]!.localeCompare(b[0]!));
    assert.deepEqual(served, documented);
  });

  it('declares servers from GATEHOUSE_PUBLIC_URL, else the listen URL, and the MIT license', async () => {
    const packageJson = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { license: string };
    for (const [name, env] of variants) {
      const doc = await documentOf(apps[name]!);
      assert.equal(doc.info.license?.name, packageJson.license, name);
      const publicUrl = env.GATEHOUSE_PUBLIC_URL;
      if (publicUrl !== undefined) assert.deepEqual(doc.servers, [{ url: publicUrl }], name);
    }
    const listening = await createTestApp({ env: { PORT: '8123' } });
    const wildcard = await createTestApp({ env: { HOST: '0.0.0.0' } });
    try {
      assert.deepEqual((await documentOf(listening)).servers, [
        { url: `http://${listening.config.http.host}:8123` },
      ]);
      // 0.0.0.0 is no address a client can open.
      assert.deepEqual((await documentOf(wildcard)).servers, [
        { url: `http://localhost:${wildcard.config.http.port}` },
      ]);
    } finally {
      await listening.close();
      await wildcard.close();
    }
  });

  // API.md 1: every error is JSON with a `detail`; a client generated from the document must
  // find it in every 4xx the document declares.
  it('declares a JSON `detail` in every 4xx answer of every operation', async () => {
    for (const { method, path, operation } of operationsOf(await documentOf(defaults()))) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!status.startsWith('4')) continue;
        const { schema } = (response as JsonResponse).content?.['application/json'] ?? {};
        assert.ok(
          schema?.properties?.detail !== undefined,
          `${method} ${path} ${status}: ${JSON.stringify(schema)}`,
        );
      }
    }
  });

  for (const [name] of variants) {
    it(`tells the truth about security (${name}): 401 without credentials exactly where some are required`, async () => {
      const t = apps[name]!;
      for (const { method, path, operation } of operationsOf(await documentOf(t))) {
        const security = operation.security;
        assert.ok(Array.isArray(security), `${method} ${path} declares its security`);
        const open = security.length === 0 || security.some((r) => Object.keys(r).length === 0);
        const response = await t.app.inject({
          method: method as 'GET',
          url: path.replace(/\{\w+\}/g, '1'),
        });
        if (open) {
          assert.notEqual(response.statusCode, 401, `${method} ${path} is documented as open`);
        } else {
          assert.equal(response.statusCode, 401, `${method} ${path}: ${response.body}`);
          assert.ok(
            Object.keys(operation.responses ?? {}).includes('401'),
            `${method} ${path} documents its 401`,
          );
        }
      }
    });
  }
});
