import { createTestApp } from './test-app.ts';

/** A metrics token that passes config's guessability check (it guards nothing here). */
const METRICS_TOKEN = 'oJ9xq2VbN7kR4tLw8ZcY3mHd6sEa1PfG';

/**
 * The configurations whose documents `npm run lint:openapi` checks: the document follows the
 * config (GET /metrics and its security, `servers`), so both shapes of it are linted. The
 * first is the one the committed client types are generated from.
 */
export const OPENAPI_VARIANTS: Readonly<Record<string, Record<string, string>>> = {
  'development defaults': {},
  'public URL and metrics token': {
    GATEHOUSE_PUBLIC_URL: 'https://auth.corp.test/gatehouse',
    GATEHOUSE_METRICS: 'true',
    GATEHOUSE_METRICS_TOKEN: METRICS_TOKEN,
  },
};

/** GET /openapi.json of a Gatehouse built in-process (in-memory SQLite) with `env`. */
export async function openApiDocument(env: Record<string, string> = {}): Promise<unknown> {
  const t = await createTestApp({ env });
  try {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    if (response.statusCode !== 200) {
      throw new Error(`GET /openapi.json answered ${response.statusCode}: ${response.body}`);
    }
    return response.json();
  } finally {
    await t.close();
  }
}
