// One webhook: its facts and state, Activate (PATCH State), its 24-hour chart, its delivery log,
// Recover (every failed delivery since a time) and its Controls (GET/PUT .../Controls).

import { api, hookPath } from './api.js';
import { activityChart } from './chart.js';
import { badge, byId, h, replaceChildren, utcHoursAgo, utcInputValue } from './dom.js';
import { showLog, initLog } from './events.js';
import { hookName } from './hooks.js';
import { say, sayError } from './status.js';

let hookId = null;

function fact(term, ...value) {
  return [h('dt', null, term), h('dd', null, ...value)];
}

function showFacts(hook, usage) {
  byId('hook-title').textContent = `${hookName(hook)} #${hook.WebhookId}`;
  replaceChildren(byId('hook-state'), badge(hook.State));
  byId('hook-activate').hidden = hook.State === 'Active';
  replaceChildren(byId('hook-facts'),
    fact('State', hook.State),
    fact('Target', h('span', { class: 'url' }, hook.TargetUrl || '')),
    fact('Events', (hook.Events || []).join(', ')),
    fact('Updated (UTC)', hook.Updated),
    fact('Calls', String(usage.TotalCalls)),
    fact('Errors', `${usage.TotalErrors} (${usage.ConsecutiveErrors} in a row)`),
    fact('Last error', usage.LastError ? [h('pre', { class: 'error-text' }, usage.LastError),
      h('span', { class: 'muted' }, `at ${usage.LastErrorAt} UTC`)] : 'none'));
}

async function loadFacts() {
  const [hook, usage] = await Promise.all([
    api('GET', hookPath(hookId)),
    api('GET', hookPath(hookId) + '/Usage'),
  ]);
  showFacts(hook, usage);
}

async function loadChart() {
  const activity = await api('GET', hookPath(hookId) + '/Activity');
  replaceChildren(byId('hook-chart'), activityChart(activity.Items, 'Attempts per hour to this webhook'));
}

// -- controls --------------------------------------------------------------------------------

const numberOrNull = (input) => (input.value === '' ? null : Number(input.value));

async function loadControls() {
  const form = byId('controls-form');
  const unavailable = byId('controls-unavailable');
  try {
    const c = await api('GET', hookPath(hookId) + '/Controls');
    byId('controls-rate').value = c.RateLimit ?? '';
    byId('controls-inflight').value = c.MaxInFlight ?? '';
    byId('controls-ordered').checked = c.Ordered;
    byId('controls-probe').checked = c.Probe;
    byId('controls-previous').textContent = c.PreviousSecretUntil ? c.PreviousSecretUntil + ' UTC' : 'no previous secret';
    form.hidden = false;
    unavailable.hidden = true;
  } catch (e) {
    if (e.status === 401) throw e;
    form.hidden = true;
    unavailable.hidden = false;
    unavailable.textContent = 'The controls could not be read: ' + e.message;
  }
}

async function saveControls(event) {
  event.preventDefault();
  for (const input of [byId('controls-rate'), byId('controls-inflight')]) {
    if (input.validity.badInput) {
      say(`${input.labels[0].textContent} must be a whole number, or empty.`, 'error');
      input.focus();
      return;
    }
  }
  try {
    await api('PUT', hookPath(hookId) + '/Controls', {
      body: {
        RateLimit: numberOrNull(byId('controls-rate')),
        MaxInFlight: numberOrNull(byId('controls-inflight')),
        Ordered: byId('controls-ordered').checked,
        Probe: byId('controls-probe').checked,
      },
    });
    await loadControls();
    say(`The controls of webhook ${hookId} are saved.`);
  } catch (e) {
    sayError(e);
  }
}

// -- actions ---------------------------------------------------------------------------------

async function activate() {
  try {
    await api('PATCH', hookPath(hookId), { body: { State: 'Active' }, contentType: 'application/merge-patch+json' });
    await loadFacts();
    say(`Webhook ${hookId} is Active again.`);
    byId('hook-title').focus();
  } catch (e) {
    sayError(e);
  }
}

async function recover(event) {
  event.preventDefault();
  const since = utcInputValue(byId('recover-since'));
  if (since === null) {
    say('Give the time since when failed deliveries should be sent again.', 'error');
    byId('recover-since').focus();
    return;
  }
  try {
    const result = await api('POST', hookPath(hookId) + '/Recover', { body: { Since: since } });
    say(`${result.Recovered} failed deliveries are queued again; ${result.Remaining} remain for another Recover.`);
    await showLog(hookId);
  } catch (e) {
    sayError(e);
  }
}

export async function showHook(id) {
  hookId = id;
  // Nothing of the webhook shown before may stay while this one loads.
  for (const el of [byId('hook-facts'), byId('hook-chart'), byId('log-table').tBodies[0]]) el.replaceChildren();
  byId('recover-since').value = utcHoursAgo(24);
  await loadFacts();
  await Promise.all([loadChart(), showLog(hookId), loadControls()]);
}

export function initHook() {
  initLog();
  byId('hook-activate').addEventListener('click', activate);
  byId('hook-refresh').addEventListener('click', () => showHook(hookId).catch(sayError));
  byId('recover-form').addEventListener('submit', recover);
  byId('controls-form').addEventListener('submit', saveControls);
}
