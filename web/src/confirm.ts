import { h } from './dom.ts';

/**
 * Asks before an admin action that is hard to undo (a promotion to admin, disabling a user,
 * signing a user out everywhere, deleting). A modal <dialog>: the browser traps focus in it,
 * Escape cancels, and focus starts on Cancel so a stray Enter never confirms (WCAG 3.3.4,
 * error prevention). Resolves true only for the confirm button.
 */
export function confirmAction(options: {
  title: string;
  body: string;
  confirm: string;
  danger?: boolean;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = `confirm-title-${Date.now()}`;
    const bodyId = `${titleId}-body`;
    let answer = false;
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const ok = h(
      'button',
      { type: 'button', class: options.danger ? 'danger' : '' },
      options.confirm,
    );
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
      h('h2', { id: titleId }, options.title),
      h('p', { id: bodyId }, options.body),
      h('div', { class: 'confirm-buttons' }, cancel, ok),
    ) as HTMLDialogElement;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    // Escape fires `cancel` then `close`; every way out ends here.
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
