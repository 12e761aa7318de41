import { field, h } from './dom.ts';

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

/** The server's default (GATEHOUSE_PASSWORD_MIN_LENGTH, API.md 1), and the least it allows. */
const DEFAULT_MIN_LENGTH = 8;

/**
 * The server's minimum password length (GATEHOUSE_PASSWORD_MIN_LENGTH), which the server writes
 * into the page as `<meta name="gatehouse-password-min-length">` (src/http/routes/web-ui.ts),
 * so no request is needed; the default when the page was served some other way. The server's
 * 422 stays the judge either way (OWASP ASVS 2.1.1: at least 8 characters, say 12+).
 */
export function passwordMinLength(): number {
  const meta = document.querySelector<HTMLMetaElement>(
    'meta[name="gatehouse-password-min-length"]',
  );
  const value = Number(meta?.content);
  return Number.isInteger(value) && value >= DEFAULT_MIN_LENGTH ? value : DEFAULT_MIN_LENGTH;
}

/** The policy in words, for a field's hint before anything is typed. */
export function passwordPolicy(): string {
  return `At least ${passwordMinLength()} characters. Long passphrases are welcome; common passwords are refused.`;
}

/** The policy shown live in `hint` as the user types into `input`. */
export function showPolicyLive(input: HTMLInputElement, hint: HTMLElement | null): void {
  if (!hint) return;
  const min = passwordMinLength();
  const update = () => {
    // Code points, as the server counts them (a character outside the BMP is one, not two).
    const length = [...input.value].length;
    const short = min - length;
    hint.textContent =
      short > 0
        ? `At least ${min} characters (${short} more to go). Long passphrases are welcome; common passwords are refused.`
        : `Length OK (${length} characters). Common passwords are still refused.`;
    hint.dataset.met = String(short <= 0);
  };
  input.addEventListener('input', update);
  update();
}

/**
 * A field for a new password: the policy as its hint, shown live as the user types, and a
 * show/hide toggle named `toggleLabel` (OWASP ASVS 2.1.12: the user can view the password).
 */
export function newPasswordField(label: string, name: string, toggleLabel?: string) {
  const password = field(
    label,
    { name, type: 'password', autocomplete: 'new-password', required: true },
    passwordPolicy(),
  );
  addVisibilityToggle(password.input, toggleLabel);
  showPolicyLive(password.input, password.wrapper.querySelector('.hint'));
  return password;
}

/** A required field for a password the user already has (the browser may fill it in). */
export function currentPasswordField(label: string, name: string) {
  return field(label, { name, type: 'password', autocomplete: 'current-password', required: true });
}
