import type { ImportOptions } from '../../src/domain/accounts/import-users.ts';

/** A passlib bcrypt hash (cost 10), as a FastAPI-tutorial app stores one: what imports carry. */
export const IMPORTED_BCRYPT_HASH = '$2b$10$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu';

/** importUsers' options for a real (not dry) JSONL import in batches of 10. */
export const IMPORT_OPTIONS: ImportOptions = {
  dryRun: false,
  dropMfa: false,
  batchSize: 10,
  sourceKind: 'jsonl',
};
