// The list of webhooks: state, target, the last 24 hours' attempts and the last error of each,
// under a chart of every visible webhook's activity.

import { api, hookPath } from './api.js';
import { activityChart } from './chart.js';
import { badge, byId, h, replaceChildren } from './dom.js';
import { sayError } from './status.js';

export const hookName = (hook) => hook.Name || 'Webhook ' + hook.WebhookId;

// The first line of an error text, shortened for a table cell (the webhook's page shows it whole).
function shortError(text) {
  if (!text) return 'none';
  const line = text.split(/\r?\n/, 1)[0];
  return line.length > 120 ? line.slice(0, 119) + '…' : line;
}

function countsText(activity) {
  const ok = activity.Items.reduce((n, i) => n + i.Succeeded, 0);
  const failed = activity.Items.reduce((n, i) => n + i.Failed, 0);
  return `${ok} succeeded, ${failed} failed`;
}

function hookRow(hook) {
  const counts = h('td', { 'data-label': 'Attempts, last 24 h', class: 'counts' }, '…');
  const lastError = h('td', { 'data-label': 'Last error', class: 'error-text' }, '…');
  const row = h('tr', null,
    h('th', { scope: 'row', 'data-label': 'Webhook' },
      h('a', { href: '#/webhook/' + hook.WebhookId }, hookName(hook)), h('span', { class: 'muted' }, ' #' + hook.WebhookId)),
    h('td', { 'data-label': 'State' }, badge(hook.State)),
    h('td', { 'data-label': 'Target', class: 'url' }, hook.TargetUrl || ''),
    counts,
    lastError);
  // Per row, so that a long list shows at once and fills in.
  api('GET', hookPath(hook.WebhookId) + '/Activity')
    .then((activity) => { counts.textContent = countsText(activity); })
    .catch((e) => { counts.textContent = 'unavailable'; sayError(e); });
  api('GET', hookPath(hook.WebhookId) + '/LastError')
    .then((text) => { lastError.textContent = shortError(text); })
    .catch((e) => { lastError.textContent = 'unavailable'; sayError(e); });
  return row;
}

export async function showHooks() {
  const [hooks, activity] = await Promise.all([
    api('GET', '/api/v1/Webhook'),
    api('GET', '/api/v1/Webhook/Activity'),
  ]);
  replaceChildren(byId('hooks-chart'), activityChart(activity.Items, 'Attempts per hour, all webhooks'));
  replaceChildren(byId('hooks-table').tBodies[0], hooks.map(hookRow));
  byId('hooks-table').hidden = hooks.length === 0;
  byId('hooks-empty').hidden = hooks.length !== 0;
}
