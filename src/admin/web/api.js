// The admin API from the page: the token is kept in this tab's sessionStorage (gone when the tab
// closes), sent only as "Authorization: Bearer" and never put in a URL. A 401 signs out; any
// other error is thrown as an ApiError with the API's own message ({"error": "..."}).
'use strict';

const TOKEN_KEY = 'safetynet.token';

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const Api = {
  // Called on a 401 (set by dashboard.js): back to the login.
  onUnauthorized: () => {},

  token() { return sessionStorage.getItem(TOKEN_KEY); },
  setToken(t) { sessionStorage.setItem(TOKEN_KEY, t); },
  forget() { sessionStorage.removeItem(TOKEN_KEY); },

  // path: "/api/v1/...", query: {name: value} (empty values left out), body: an object (JSON).
  // `accept`: statuses whose JSON body is an answer, not an error (GET /readyz's 503).
  async call(method, path, {query, body, accept = []} = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') params.set(k, v);
    const url = path + (params.toString() ? '?' + params : '');
    const headers = {Accept: 'application/json', Authorization: 'Bearer ' + (this.token() || '')};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let r;
    try {
      r = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                            cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer'});
    } catch (e) {
      throw new ApiError(0, 'the daemon did not answer (' + e.message + ')');
    }
    let data = null;
    try { data = await r.json(); } catch (e) { /* an answer that is not JSON: its status says enough */ }
    if (r.status === 401) {
      this.forget();
      this.onUnauthorized((data && data.error) || 'the token was refused');
      throw new ApiError(401, 'signed out: the token was refused');
    }
    if (!r.ok && !accept.includes(r.status)) {
      throw new ApiError(r.status, (data && data.error) || `HTTP ${r.status}`);
    }
    return data;
  },

  get(path, query, accept) { return this.call('GET', path, {query, accept}); },
  post(path, body) { return this.call('POST', path, {body: body || {}}); },
  del(path, query) { return this.call('DELETE', path, {query}); },
};
