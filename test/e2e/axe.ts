import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** axe-core's browser build, injected into the page under test (never served by Gatehouse). */
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** WCAG 2.2 level A and AA, as axe-core tags its rules. */
export const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on `page` as it is now, with the WCAG 2.2 AA rules, and returns what it found.
 * `exclude` lists selectors to leave out (e.g. a third party's widget).
 */
export async function axeViolations(
  page: Page,
  options: { exclude?: string[] } = {},
): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) {
    await page.addScriptTag({ path: AXE_PATH });
  }
  const context = options.exclude?.length
    ? { include: [['html']], exclude: options.exclude.map((s) => [s]) }
    : 'html';
  return (await page.evaluate(
    `window.axe.run(${JSON.stringify(context)}, {
      runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_22_AA)} },
      resultTypes: ['violations'],
    }).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    })))`,
  )) as AxeViolation[];
}

/** One block per violation: rule id, impact, what it means, where, and why each node fails. */
export function formatViolations(where: string, violations: AxeViolation[]): string {
  return violations
    .map((v) =>
      [
        `${where}: ${v.id} (${v.impact ?? 'n/a'}): ${v.help}  ${v.helpUrl}`,
        ...v.nodes.map(
          (n) =>
            `    at ${JSON.stringify(n.target)}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`,
        ),
      ].join('\n'),
    )
    .join('\n');
}
