import { GatehouseError, isGatehouseError } from '../errors.ts';
import { registerUser, type RegisterUserDeps } from './register-user.ts';
import type { User } from './user.ts';

/**
 * Creates the configured first admin when the store has no admin yet (API.md 3). Several
 * instances starting at once race on the unique email index; the losers see `email_taken`
 * and carry on.
 */
export async function bootstrapAdmin(
  deps: RegisterUserDeps,
  admin: { email: string; password: string },
): Promise<User | undefined> {
  if ((await deps.users.countAdmins()) > 0) return undefined;
  try {
    return await registerUser(deps, { ...admin, role: 'admin' });
  } catch (error) {
    if (isGatehouseError(error, 'email_taken')) {
      throw new GatehouseError(
        'email_taken',
        'GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL belongs to an existing non-admin user; promote it with `gatehouse users set-role` instead',
        { cause: error },
      );
    }
    throw error;
  }
}
