import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import type { ResealCounts } from '../domain/tokens/reseal-secrets.ts';
import { resealStore } from '../services.ts';

// A store with thousands of TOTP users under a lost key would print a wall of names.
const MAX_NAMED = 20;

/** `2 resealed, 1 already under the current key` (counts only: never a secret). */
function describeCounts(counts: ResealCounts, dryRun: boolean): string {
  const parts = [
    `${counts.resealed} ${dryRun ? 'to reseal' : 'resealed'}`,
    `${counts.alreadyCurrent} already under the current key`,
  ];
  if (counts.changedMeanwhile > 0) {
    parts.push(`${counts.changedMeanwhile} changed meanwhile (left as written)`);
  }
  return parts.join(', ');
}

/**
 * `gatehouse reseal [--dry-run]`: the second step of changing GATEHOUSE_KEY_ENCRYPTION_KEY
 * (docs/signing-keys.md): after every instance runs with the new key and the old one as
 * GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS, every secret at rest is sealed under the new key.
 */
export function registerResealCommand(program: Command): void {
  program
    .command('reseal')
    .description(
      'seal every private signing key and TOTP secret under GATEHOUSE_KEY_ENCRYPTION_KEY (those under GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS, or unencrypted); prints counts',
    )
    .option('--dry-run', 'check and count, write nothing')
    .action(async (options: { dryRun?: boolean }) => {
      const config = loadConfig(process.env);
      const dryRun = options.dryRun === true;
      const outcome = await resealStore(config, config.storage.poolSize, { dryRun });
      if (!outcome.ok) {
        const { unopenable } = outcome;
        const named = unopenable.slice(0, MAX_NAMED).join(', ');
        const more =
          unopenable.length > MAX_NAMED ? ` and ${unopenable.length - MAX_NAMED} more` : '';
        console.error(
          `error: nothing was resealed: ${unopenable.length} value${unopenable.length === 1 ? '' : 's'} open under neither GATEHOUSE_KEY_ENCRYPTION_KEY nor GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: ${named}${more}`,
        );
        process.exitCode = 1;
        return;
      }
      console.log(`signing keys: ${describeCounts(outcome.signingKeys, dryRun)}`);
      console.log(`TOTP secrets: ${describeCounts(outcome.totpSecrets, dryRun)}`);
      const changed = outcome.signingKeys.changedMeanwhile + outcome.totpSecrets.changedMeanwhile;
      if (dryRun) console.log('dry run: nothing was written');
      else if (changed > 0) {
        console.log(
          `${changed} value(s) changed while this ran: run gatehouse reseal again before removing GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS.`,
        );
      } else {
        console.log(
          'Every secret at rest is sealed under GATEHOUSE_KEY_ENCRYPTION_KEY: GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS can now be removed from every instance (then restart each).',
        );
      }
    });
}
