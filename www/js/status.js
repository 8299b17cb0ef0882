// One live region for what just happened (an error, a queued resend): screen readers announce it,
// and it stays in view at the bottom of the window whatever was clicked.

import { byId } from './dom.js';

export function say(message, kind = 'info') {
  const el = byId('status');
  el.textContent = message;
  el.className = message ? 'status status-' + kind : 'status';
}

export function clearStatus() {
  say('');
}

// An API error as the server worded it. A 401 means the credentials no longer hold (a revoked
// ticket, a changed password): main.js hears that and asks to sign in again.
export function sayError(error) {
  if (error.status === 401) {
    window.dispatchEvent(new CustomEvent('webhookd:unauthorized', { detail: error.message }));
    return;
  }
  say(error.message, 'error');
}
