import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import semver from 'semver';

// The Node.js lines package.json promises must be lines every installed package
// accepts, or `npm ci` warns EBADENGINE there (and the package may really need the newer line).
interface LockedPackage {
  version?: string;
  engines?: Record<string, string> | string[];
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** The oldest release of each line the range accepts: `^20.9.0 || >=24` → 20.9.0 and 24.0.0. */
function oldestOfEachLine(range: string): string[] {
  return new semver.Range(range).set.map((comparators) => {
    const oldest = semver.minVersion(new semver.Range(comparators.map(String).join(' ')));
    assert.ok(oldest, `no version satisfies ${comparators.join(' ')}`);
    return oldest.version;
  });
}

describe('supported Node.js lines (package.json engines)', () => {
  const supported = manifest.engines.node;

  for (const line of ['20', '22', '24']) {
    it(`name the ${line} line`, () => {
      assert.ok(semver.intersects(supported, `^${line}.0.0`), `engines.node is ${supported}`);
    });
  }

  for (const oldest of oldestOfEachLine(supported)) {
    it(`are accepted by every locked package from Node ${oldest} on`, () => {
      const refusing = Object.entries(lock.packages)
        .filter(([path]) => path !== '')
        .flatMap(([path, locked]) => {
          const wanted = Array.isArray(locked.engines) ? undefined : locked.engines?.node;
          if (wanted === undefined || semver.satisfies(oldest, wanted)) return [];
          return [
            `${path.replace(/^.*node_modules\//, '')}@${locked.version} wants node ${wanted}`,
          ];
        });
      assert.deepEqual(refusing, []);
    });
  }
});
