import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// No dependency is held back without a written reason. A caret range follows its
// major line; anything tighter (exact, tilde) or forced through `overrides` is a decision,
// and docs/dependencies.md says why.
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  overrides?: Record<string, Record<string, string>>;
};
const reasons = readFileSync('docs/dependencies.md', 'utf8');

describe('dependencies held back (docs/dependencies.md)', () => {
  it('gives a reason for every pin tighter than a caret range', () => {
    const pinned = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })
      .filter(([, range]) => !range.startsWith('^'))
      .map(([name]) => name);
    assert.deepEqual(
      pinned.filter((name) => !reasons.includes(`\`${name}\``)),
      [],
    );
  });

  it('gives a reason for every override', () => {
    const overridden = Object.values(manifest.overrides ?? {}).flatMap((nested) =>
      Object.keys(nested),
    );
    assert.deepEqual(
      overridden.filter((name) => !reasons.includes(`\`${name}\``)),
      [],
    );
  });
});
