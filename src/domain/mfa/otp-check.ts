import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import type { ClientInfo } from '../client-info.ts';
import type { SecondFactorCheck } from '../sessions/complete-mfa-grant.ts';
import type { MfaRepository } from './mfa-repository.ts';
import { asTotpCode, hashRecoveryCode, matchingStep, type TotpSecrets } from './totp.ts';

export interface OtpCheckDeps {
  mfa: MfaRepository;
  clock: Clock;
  audit: AuditLog;
  secrets: TotpSecrets;
}

/**
 * The `otp` of the mfa-otp grant (API.md 9): six digits are a TOTP code of the confirmed
 * factor (±1 step, each step accepted once: the conditional UPDATE of useTotpStep decides, on
 * every instance); anything else is tried as a recovery code (single use).
 */
export function otpCheck(deps: OtpCheckDeps, otp: string, client: ClientInfo): SecondFactorCheck {
  return async (user) => {
    const code = asTotpCode(otp);
    if (code !== undefined) {
      const factor = await deps.mfa.findTotp(user.id);
      if (!factor?.confirmedAt) return undefined;
      const step = matchingStep(
        deps.secrets.open(factor),
        code,
        deps.clock.now(),
        factor.lastUsedStep,
      );
      if (step === undefined || !(await deps.mfa.useTotpStep(user.id, step))) return undefined;
      return 'totp';
    }
    if (otp.length > 64) return undefined;
    if (
      !(await deps.mfa.useRecoveryCode(user.id, hashRecoveryCode(user.id, otp), deps.clock.now()))
    )
      return undefined;
    await recordAuditEvent(
      deps,
      'mfa.recovery_code_used',
      {
        actorId: user.id,
        subjectId: user.id,
        email: user.email,
        details: { remaining: await deps.mfa.countUnusedRecoveryCodes(user.id) },
      },
      client,
    );
    return 'recovery_code';
  };
}
