// Kept for suites written before test/support/client.ts: import from client.ts instead.
export {
  bearer,
  createUser,
  FORM,
  insertUsers,
  logIn,
  requestToken,
  type LoggedIn,
} from './client.ts';
