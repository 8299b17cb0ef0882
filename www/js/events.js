// A webhook's delivery log: GET .../Events with the filter form's outcome, since, until and page
// size, newest first, "Load more" following NextCursor; a row expands to the event's data and
// every attempt (GET .../Events/{deliveryId}), and Resend puts it back into the queue.

import { api, hookPath } from './api.js';
import { badge, byId, h, replaceChildren, utcInputValue } from './dom.js';
import { say, sayError } from './status.js';

const log = { hookId: null, query: null, cursor: null };
const COLUMNS = 7;

const eventPath = (deliveryId) => hookPath(log.hookId) + '/Events/' + encodeURIComponent(deliveryId);

function lastAnswer(item) {
  if (item.Attempts === 0) return 'not tried yet';
  const what = item.LastStatus !== null ? 'HTTP ' + item.LastStatus : item.LastError || 'no answer';
  return `${what} at ${item.LastAttemptAt}`;
}

function outcomeCell(item) {
  return h('td', { 'data-label': 'Outcome' }, badge(item.Outcome),
    item.NextAttemptAt ? h('span', { class: 'muted' }, ' next ' + item.NextAttemptAt) : null);
}

function attemptsTable(event) {
  return h('table', { class: 'stack attempts' },
    h('caption', null, `Attempts of delivery ${event.DeliveryId}, oldest first`),
    h('thead', null, h('tr', null, ['Cycle', 'Attempt', 'At (UTC)', 'Status', 'Latency', 'Answer']
      .map((title) => h('th', { scope: 'col' }, title)))),
    h('tbody', null, event.AttemptLog.map((a) => h('tr', null,
      h('td', { 'data-label': 'Cycle' }, String(a.Cycle)),
      h('td', { 'data-label': 'Attempt' }, String(a.Attempt)),
      h('td', { 'data-label': 'At (UTC)' }, a.AttemptedAt),
      h('td', { 'data-label': 'Status' }, a.Status !== null ? String(a.Status) : a.Error || 'no answer'),
      h('td', { 'data-label': 'Latency' }, a.LatencyMs !== null ? a.LatencyMs + ' ms' : ''),
      h('td', { 'data-label': 'Answer' }, a.Response ? h('pre', null, a.Response) : '')))));
}

function eventDetail(event) {
  return h('div', { class: 'event-detail' },
    h('p', null, 'EventId ', h('code', null, event.EventId), ` · primary key ${event.PrimaryKey}`),
    event.AttemptLog.length ? attemptsTable(event) : h('p', { class: 'hint' }, 'No attempt yet.'),
    h('details', null, h('summary', null, 'Data as signalled'),
      h('pre', null, JSON.stringify(event.Data, null, 2))));
}

async function toggleDetail(row, button, item) {
  const open = button.getAttribute('aria-expanded') === 'true';
  const detailId = 'delivery-' + item.DeliveryId;
  if (open) {
    byId(detailId)?.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  try {
    const event = await api('GET', eventPath(item.DeliveryId));
    row.after(h('tr', { id: detailId, class: 'detail' }, h('td', { colspan: COLUMNS }, eventDetail(event))));
    button.setAttribute('aria-expanded', 'true');
  } catch (e) {
    sayError(e);
  }
}

async function resend(row, item) {
  try {
    const queued = await api('POST', eventPath(item.DeliveryId) + '/Resend');
    byId('delivery-' + item.DeliveryId)?.remove();
    const fresh = eventRow(queued);
    row.replaceWith(fresh);
    fresh.querySelector('button.resend').focus();
    say(`Delivery ${queued.DeliveryId} is queued again (cycle ${queued.Cycle}).`);
  } catch (e) {
    sayError(e);
  }
}

function eventRow(item) {
  const details = h('button', {
    type: 'button', class: 'details', 'aria-expanded': 'false', 'aria-controls': 'delivery-' + item.DeliveryId,
    'aria-label': `Attempts of delivery ${item.DeliveryId}`,
  }, 'Attempts');
  const again = h('button', {
    type: 'button', class: 'resend', 'aria-label': `Resend delivery ${item.DeliveryId}`,
  }, 'Resend');
  const row = h('tr', null,
    h('th', { scope: 'row', 'data-label': 'Delivery' }, String(item.DeliveryId)),
    h('td', { 'data-label': 'Event' }, item.Event, h('span', { class: 'muted' }, ' #' + item.PrimaryKey)),
    h('td', { 'data-label': 'Signalled (UTC)' }, item.SignalledAt),
    outcomeCell(item),
    h('td', { 'data-label': 'Attempts' }, `${item.Attempts} (cycle ${item.Cycle})`),
    h('td', { 'data-label': 'Last answer', class: 'error-text' }, lastAnswer(item)),
    h('td', { class: 'row-actions' }, details, again));
  details.addEventListener('click', () => toggleDetail(row, details, item));
  again.addEventListener('click', () => resend(row, item));
  return row;
}

async function loadPage(append) {
  const section = byId('log-section');
  section.setAttribute('aria-busy', 'true');
  let page;
  try {
    page = await api('GET', hookPath(log.hookId) + '/Events', { query: { ...log.query, cursor: log.cursor } });
  } finally {
    section.setAttribute('aria-busy', 'false');
  }
  const body = byId('log-table').tBodies[0];
  const rows = page.Items.map(eventRow);
  if (append) body.append(...rows);
  else replaceChildren(body, rows);
  log.cursor = page.NextCursor;
  byId('log-more').hidden = log.cursor === null;
  byId('log-empty').hidden = body.rows.length !== 0;
  byId('log-table').hidden = body.rows.length === 0;
  return rows;
}

function filterQuery() {
  return {
    outcome: byId('log-outcome').value,
    since: utcInputValue(byId('log-since')),
    until: utcInputValue(byId('log-until')),
    limit: byId('log-limit').value,
  };
}

// The first page for a webhook, with the filters as the form has them.
export function showLog(hookId) {
  log.hookId = hookId;
  log.query = filterQuery();
  log.cursor = null;
  return loadPage(false);
}

export function initLog() {
  byId('log-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    showLog(log.hookId).catch(sayError);
  });
  byId('log-more').addEventListener('click', async () => {
    try {
      const rows = await loadPage(true);
      // Keyboard users go on where the new rows start.
      rows[0]?.querySelector('button.details').focus();
    } catch (e) {
      sayError(e);
    }
  });
}
