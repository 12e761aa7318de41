import { h } from './dom.ts';

/**
 * A show/hide toggle for a password input: a real button whose state is
 * `aria-pressed` (WAI-ARIA toggle button), so its name stays "Show password" while pressed. Several on a page name their field.
 */
export function addVisibilityToggle(input: HTMLInputElement, label = 'password'): HTMLElement {
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'secondary password-toggle',
      'aria-pressed': 'false',
      'aria-controls': input.id,
      onClick() {
        const show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        toggle.setAttribute('aria-pressed', String(show));
      },
    },
    `Show ${label}`,
  );
  input.after(toggle);
  return toggle;
}

/**
 * The server's default minimum (GATEHOUSE_PASSWORD_MIN_LENGTH, API.md 1); the server's 422
 * stays the judge when an operator raised it.
 */
export const PASSWORD_MIN_LENGTH = 8;

/** The policy shown live in `hint` as the user types into `input`. */
export function showPolicyLive(input: HTMLInputElement, hint: HTMLElement | null): void {
  if (!hint) return;
  const update = () => {
    const length = [...input.value].length;
    const short = PASSWORD_MIN_LENGTH - length;
    hint.textContent =
      short > 0
        ? `At least ${PASSWORD_MIN_LENGTH} characters (${short} more to go). Long passphrases are welcome; common passwords are refused.`
        : `Length OK (${length} characters). Common passwords are still refused.`;
    hint.dataset.met = String(short <= 0);
  };
  input.addEventListener('input', update);
  update();
}
