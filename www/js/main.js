// The page's entry: sign-in, sign-out, and the views by location hash (#/ the webhooks,
// #/webhook/7 one of them), so that the browser's back button and bookmarks work.

import { api, basicAuthorization, credentials } from './api.js';
import { byId } from './dom.js';
import { showHooks } from './hooks.js';
import { initHook, showHook } from './webhook.js';
import { clearStatus, say, sayError } from './status.js';

const VIEWS = { 'sign-in-view': 'sign-in-title', 'hooks-view': 'hooks-title', 'hook-view': 'hook-title' };
const WHO = 'webhookd.who';

function reveal(view) {
  for (const id of Object.keys(VIEWS)) byId(id).hidden = id !== view;
  const signedIn = view !== 'sign-in-view';
  byId('nav').hidden = !signedIn;
  byId('who').hidden = !signedIn;
  byId('who-name').textContent = signedIn ? 'Signed in as ' + (sessionStorage.getItem(WHO) || '') : '';
  // Screen readers and keyboards start at the new view's heading.
  byId(VIEWS[view]).focus();
}

async function showView() {
  if (!credentials.get()) {
    reveal('sign-in-view');
    return;
  }
  const match = /^#\/webhook\/(\d{1,10})$/.exec(location.hash);
  if (match) {
    await showHook(match[1]);
    reveal('hook-view');
  } else {
    await showHooks();
    reveal('hooks-view');
  }
}

// aria-busy tells assistive technology (and the browser tests) that the view is being filled.
async function route() {
  const main = byId('main');
  main.setAttribute('aria-busy', 'true');
  try {
    await showView();
  } catch (e) {
    sayError(e);
  } finally {
    main.setAttribute('aria-busy', 'false');
  }
}

function signOut(message) {
  credentials.clear();
  sessionStorage.removeItem(WHO);
  reveal('sign-in-view');
  if (message) say(message, 'error');
  else clearStatus();
}

function chosenMethod() {
  return document.querySelector('input[name="method"]:checked').value;
}

function showMethod() {
  const password = chosenMethod() === 'password';
  byId('password-fields').hidden = !password;
  byId('token-fields').hidden = password;
}

async function signIn(event) {
  event.preventDefault();
  let authorization;
  let who;
  if (chosenMethod() === 'password') {
    const user = byId('user').value;
    const password = byId('password').value;
    if (user === '' || password === '') {
      say('Enter your user name and password.', 'error');
      byId(user === '' ? 'user' : 'password').focus();
      return;
    }
    authorization = basicAuthorization(user, password);
    who = user;
  } else {
    const token = byId('token').value.trim();
    if (token === '') {
      say('Enter your ticket or token.', 'error');
      byId('token').focus();
      return;
    }
    authorization = byId('scheme').value + ' ' + token;
    who = byId('scheme').value === 'Bearer' ? 'a bearer token' : 'a ticket';
  }
  try {
    // The cheapest call that needs the credentials proves them before they are kept.
    await api('GET', '/api/v1/Webhook/default', { authorization });
  } catch (e) {
    say(e.message, 'error');
    const field = chosenMethod() === 'password' ? byId('password') : byId('token');
    field.value = '';
    field.focus();
    return;
  }
  byId('password').value = '';
  byId('token').value = '';
  credentials.set(authorization);
  sessionStorage.setItem(WHO, who);
  clearStatus();
  await route();
}

byId('sign-in-form').addEventListener('submit', signIn);
for (const radio of document.querySelectorAll('input[name="method"]')) radio.addEventListener('change', showMethod);
byId('sign-out').addEventListener('click', () => signOut());
byId('hooks-refresh').addEventListener('click', () => showHooks().catch(sayError));
window.addEventListener('webhookd:unauthorized', (e) => signOut('Sign in again: ' + e.detail));
window.addEventListener('hashchange', () => { clearStatus(); route(); });
initHook();
route();
