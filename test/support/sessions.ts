// Kept for suites written before test/support/client.ts: import from client.ts instead.
export {
  claimsOf,
  me,
  passwordLogin,
  refresh,
  toPair,
  userWithTwoSessions,
  type TokenPair,
} from './client.ts';
