import { createClient, deleteClient, listClients, type ApiClient } from '../api.ts';
import {
  actionError,
  field,
  fieldError,
  formatTime,
  h,
  listener,
  say,
  tableRegion,
} from '../dom.ts';
import { navigate } from '../router.ts';

/**
 * The client just created, shown on the next draw of this page and then forgotten: its secret
 * is never stored by the server, and the UI keeps it no longer than one page.
 */
let justCreated: (ApiClient & { client_secret: string }) | undefined;

function redraw(): void {
  navigate('#/admin/clients', { force: true });
}

/** Runs a button's action: on success the page is redrawn with the news; a failure stays at the button. */
async function act(button: HTMLElement, work: () => Promise<unknown>, done: string): Promise<void> {
  actionError(button, null);
  try {
    await work();
    say(done, 'success');
    redraw();
  } catch (error) {
    actionError(button, (error as Error).message);
  }
}

/** The secret of a new client, once, in a read-only field that can be selected and copied. */
function secretNotice(created: ApiClient & { client_secret: string }): HTMLElement {
  const id = field('Client ID', { name: 'client_id', value: created.client_id, readonly: true });
  const secret = field('Client secret', {
    name: 'client_secret',
    value: created.client_secret,
    readonly: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  return h(
    'section',
    { class: 'card', role: 'alert', 'aria-labelledby': 'created-title', 'data-testid': 'secret' },
    h('h2', { id: 'created-title' }, `API client “${created.name}” created`),
    h(
      'p',
      {},
      'Copy the secret now: it will not be shown again. Only a hash of it is stored. ',
      'The service calls POST /introspect with these as HTTP Basic credentials.',
    ),
    id.wrapper,
    secret.wrapper,
  );
}

function clientRow(client: ApiClient): HTMLElement {
  const actions = h('td', { class: 'actions' });
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onClick() {
        // A second, explicit click confirms, as on the users page.
        const confirm: HTMLElement = h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onClick: listener(() =>
              act(confirm, () => deleteClient(client.id), `API client ${client.name} deleted.`),
            ),
          },
          `Confirm delete ${client.name}`,
        );
        const cancel = h(
          'button',
          { type: 'button', class: 'secondary', onClick: redraw },
          'Cancel',
        );
        remove.replaceWith(confirm, cancel);
        confirm.focus();
      },
    },
    'Delete',
  );
  actions.append(remove);
  return h(
    'tr',
    { 'data-row': String(client.id) },
    h('td', { 'data-label': 'Name' }, client.name),
    h('td', { 'data-label': 'Client ID' }, h('code', {}, client.client_id)),
    h('td', { 'data-label': 'Created' }, formatTime(client.created_at)),
    actions,
  );
}

export async function adminClientsPage(): Promise<HTMLElement> {
  const created = justCreated;
  justCreated = undefined;
  const { items } = await listClients();
  const name = field(
    'Name',
    { name: 'name', required: true, maxlength: '100' },
    'e.g. billing-api',
  );
  const form = h(
    'form',
    {
      class: 'inline',
      'aria-label': 'Create an API client',
      async onSubmit(event: Event) {
        event.preventDefault();
        fieldError(name.input, null);
        try {
          justCreated = await createClient(name.input.value);
          say(`API client ${justCreated.name} created.`, 'success');
          redraw();
        } catch (error) {
          fieldError(name.input, (error as Error).message);
          name.input.focus();
        }
      },
    },
    name.wrapper,
    h('button', { type: 'submit' }, 'Create'),
  );
  return h(
    'div',
    { class: 'stack' },
    created ? secretNotice(created) : null,
    h(
      'section',
      { class: 'card' },
      h('h1', {}, 'API clients'),
      h(
        'p',
        {},
        'Services that check tokens with POST /introspect. Deleting one stops its credentials at once.',
      ),
      form,
      tableRegion(
        'API clients',
        h(
          'table',
          { 'data-testid': 'clients' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Name', 'Client ID', 'Created', 'Actions'].map((t) =>
                h('th', { scope: 'col' }, t),
              ),
            ),
          ),
          h('tbody', {}, ...items.map(clientRow)),
        ),
      ),
      items.length === 0 ? h('p', {}, 'No API clients yet.') : null,
    ),
  );
}
