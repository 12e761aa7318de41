import { signOutOthers } from '../api.ts';
import { confirmAction } from '../confirm.ts';
import { actionError, h, say } from '../dom.ts';
import { navigate } from '../router.ts';

// ASVS 5.0 7.4.3 (4.0 3.3.4): after a second factor is added or removed, the user is offered
// to end every other session, in case one of them is an attacker's. Offered, not forced: a
// password change ends them by itself (API.md 2), a factor change leaves the choice to the user.

const OFFER_ID = 'other-sessions-offer';

/** What the next drawing of the account page says: set by a factor change, taken once. */
let factorChange: string | undefined;

/**
 * Call after a second factor changed (TOTP on or off, a passkey added or deleted), before
 * redrawing the account page: it says `message`, and when the user has other sessions, offers
 * to sign them out.
 */
export function afterFactorChange(message: string): void {
  factorChange = message;
}

const sessionsText = (n: number) => (n === 1 ? '1 other session' : `${n} other sessions`);

/** The status line's offer, which points to the button. */
function offerText(others: number): string {
  return others === 1
    ? 'You have 1 other session: sign it out under Sessions if it isn’t yours.'
    : `You have ${others} other sessions: sign them out under Sessions if they aren’t yours.`;
}

/** The same offer beside the button, in the Sessions card. */
function offerNote(others: number): string {
  return others === 1
    ? 'Your sign-in methods just changed: if the other session isn’t yours, sign it out.'
    : `Your sign-in methods just changed: if the other ${others} sessions aren’t yours, sign them out.`;
}

/**
 * The account page's "Sign out other sessions" (none when there are no others), with the offer
 * above it when a second factor just changed; says what that change did either way.
 */
export function signOutOthersControls(others: number): {
  offer: HTMLElement | null;
  button: HTMLElement | null;
} {
  const change = factorChange;
  factorChange = undefined;
  if (change !== undefined) {
    say(others > 0 ? `${change} ${offerText(others)}` : change, 'success');
  }
  if (others === 0) return { offer: null, button: null };
  // The status line clears itself; the offer stays beside the button until the next redraw.
  const offer =
    change === undefined
      ? null
      : h('p', { id: OFFER_ID, 'data-testid': OFFER_ID }, offerNote(others));
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'aria-describedby': offer ? OFFER_ID : undefined,
      async onClick() {
        // WCAG 3.3.4: ending sessions on other devices can't be undone, so it asks first.
        const ok = await confirmAction({
          title: 'Sign out your other sessions?',
          body: `This ends ${sessionsText(others)} on other devices and apps at once. You stay signed in here.`,
          confirm: 'Sign out other sessions',
          danger: true,
        });
        if (!ok) return button.focus();
        actionError(button, null);
        try {
          await signOutOthers();
          say(`Signed out ${sessionsText(others)}.`, 'success');
          navigate('#/account', { force: true });
        } catch (error) {
          actionError(button, (error as Error).message);
        }
      },
    },
    'Sign out other sessions',
  );
  return { offer, button };
}
