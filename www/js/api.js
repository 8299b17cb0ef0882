// The REST API as this page uses it: the caller's Authorization kept in sessionStorage (this tab
// only, gone when it closes), JSON both ways, and errors as ApiError carrying the server's words.

const KEY = 'webhookd.authorization';

export const credentials = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

// "Basic base64(user:password)" over the UTF-8 bytes (btoa alone takes Latin-1 only).
export function basicAuthorization(user, password) {
  const bytes = new TextEncoder().encode(user + ':' + password);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return 'Basic ' + btoa(binary);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? path + '?' + text : path;
}

// api('GET', '/api/v1/Webhook', {query: {...}}) resolves to the parsed JSON (null for none).
export async function api(method, path, { query, body, contentType = 'application/json', authorization } = {}) {
  const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
  const auth = authorization || credentials.get();
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers['Content-Type'] = contentType;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // "omit": the daemon's 401 carries WWW-Authenticate: Basic, and a request that may send
      // credentials would make the browser open its own login dialog over the page. The
      // Authorization header set here still goes; cookies are not wanted anyway.
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (e) {
    throw new ApiError(0, 'The server did not answer: ' + e.message);
  }
  const text = await response.text();
  let data = null;
  if (text !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, `The server answered ${response.status} with something that is not JSON.`);
    }
  }
  if (!response.ok) {
    const message = data && typeof data.ErrorMessage === 'string' ? data.ErrorMessage
      : `The server answered ${response.status} ${response.statusText}.`;
    throw new ApiError(response.status, message);
  }
  return data;
}

export const hookPath = (id) => '/api/v1/Webhook/' + encodeURIComponent(id);
