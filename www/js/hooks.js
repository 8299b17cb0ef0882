// The list of webhooks: state, target and delivery counters of each (one Usage request for all),
// under a chart of every visible webhook's activity.

import { api, hookPath } from './api.js';
import { activityChart } from './chart.js';
import { badge, byId, h, replaceChildren } from './dom.js';

export const hookName = (hook) => hook.Name || 'Webhook ' + hook.WebhookId;

// The first line of an error text, shortened for a table cell (the webhook's page shows it whole).
function shortError(text) {
  if (!text) return 'none';
  const line = text.split(/\r?\n/, 1)[0];
  return line.length > 120 ? line.slice(0, 119) + '…' : line;
}

// Usage before the first delivery: every counter at zero.
const noUsage = (id) => ({ WebhookId: id, TotalCalls: 0, TotalErrors: 0, ConsecutiveErrors: 0, LastError: '' });

function hookRow(hook, usage) {
  return h('tr', null,
    h('th', { scope: 'row', 'data-label': 'Webhook' },
      h('a', { href: '#/webhook/' + hook.WebhookId }, hookName(hook)), h('span', { class: 'muted' }, ' #' + hook.WebhookId)),
    h('td', { 'data-label': 'State' }, badge(hook.State)),
    h('td', { 'data-label': 'Target', class: 'url' }, hook.TargetUrl || ''),
    h('td', { 'data-label': 'Calls', class: 'number' }, usage.TotalCalls),
    h('td', { 'data-label': 'Errors', class: 'number' }, usage.TotalErrors),
    h('td', { 'data-label': 'Errors in a row', class: 'number' }, usage.ConsecutiveErrors),
    h('td', { 'data-label': 'Last error', class: 'error-text' }, shortError(usage.LastError)));
}

export async function showHooks() {
  const [hooks, usage, activity] = await Promise.all([
    api('GET', '/api/v1/Webhook'),
    api('GET', '/api/v1/Webhook/Usage'),
    api('GET', '/api/v1/Webhook/Activity'),
  ]);
  const usageOf = new Map(usage.map((u) => [u.WebhookId, u]));
  replaceChildren(byId('hooks-chart'), activityChart(activity.Items, 'Attempts per hour, all webhooks'));
  replaceChildren(byId('hooks-table').tBodies[0], hooks.map((hook) => hookRow(hook, usageOf.get(hook.WebhookId) || noUsage(hook.WebhookId))));
  byId('hooks-table').hidden = hooks.length === 0;
  byId('hooks-empty').hidden = hooks.length !== 0;
}
