import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.ts';
import * as refreshTokens from './0002-refresh-tokens.ts';
import * as loginThrottle from './0003-login-throttle.ts';
import * as auditLog from './0004-audit-log.ts';
import * as forgetRawUsernames from './0005-forget-raw-usernames.ts';
import * as refreshTokenGraceChild from './0006-refresh-token-grace-child.ts';
import * as auditChain from './0007-audit-chain.ts';
import * as signingKeys from './0008-signing-keys.ts';
import * as apiClients from './0009-api-clients.ts';
import * as mailOutbox from './0010-mail-outbox.ts';
import * as emailTokens from './0011-email-tokens.ts';
import * as mfa from './0012-mfa.ts';
import * as passkeys from './0013-passkeys.ts';
import * as sessionEndReason from './0014-session-end-reason.ts';

/** Forward-only migrations, in order. Add a module `NNNN-what.ts` and list it here. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-refresh-tokens': refreshTokens,
  '0003-login-throttle': loginThrottle,
  '0004-audit-log': auditLog,
  '0005-forget-raw-usernames': forgetRawUsernames,
  '0006-refresh-token-grace-child': refreshTokenGraceChild,
  '0007-audit-chain': auditChain,
  '0008-signing-keys': signingKeys,
  '0009-api-clients': apiClients,
  '0010-mail-outbox': mailOutbox,
  '0011-email-tokens': emailTokens,
  '0012-mfa': mfa,
  '0013-passkeys': passkeys,
  '0014-session-end-reason': sessionEndReason,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
