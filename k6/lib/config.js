// Shared configuration helpers for the biogate k6 scripts.
//
// Everything is read from __ENV (k6 run -e NAME=value, or the process
// environment) with a default, so `k6 run k6/hot-path.js` works against a
// zero-config `java -jar target/biogate.jar` on the same machine.
//
// Written for k6 >= 0.48: plain ES2015 modules, no object spread, no
// optional chaining, no nullish coalescing, no remote imports.
import http from 'k6/http';

function stripTrailingSlash(url) {
  return url.replace(/\/+$/, '');
}

/** Returns __ENV[name], or def when the variable is unset or empty. */
export function env(name, def) {
  const v = __ENV[name];
  if (v === undefined || v === null || v === '') {
    return def;
  }
  return v;
}

/** Integer variable with a default; a malformed value stops the run at init. */
export function envInt(name, def) {
  const raw = env(name, String(def));
  const n = parseInt(raw, 10);
  if (isNaN(n)) {
    throw new Error(name + ' must be an integer, got "' + raw + '"');
  }
  return n;
}

/** Number variable with a default (e.g. latency budgets in ms, rates 0..1). */
export function envFloat(name, def) {
  const raw = env(name, String(def));
  const n = parseFloat(raw);
  if (isNaN(n)) {
    throw new Error(name + ' must be a number, got "' + raw + '"');
  }
  return n;
}

/** Comma-separated list variable; blanks are dropped. */
export function envList(name, def) {
  return String(env(name, def))
    .split(',')
    .map(function (s) { return s.trim(); })
    .filter(function (s) { return s.length > 0; });
}

/**
 * A webhook secret variable. The gateway accepts a comma-separated list
 * (rotation); the load scripts sign with the first entry.
 */
export function firstSecret(name) {
  const list = envList(name, '');
  return list.length > 0 ? list[0] : '';
}

/**
 * Gateway base URLs (no trailing slash): BASE_URL names one, or several instances of one deployment comma-separated,
 * which the requests then take in turn (by VU and iteration), as a balancer in front would spread them. One k6 run
 * over all the instances is what lets a script judge the deployment (one upstream fetch for a spike, whichever
 * instances the readers reach); one run per instance measured each alone.
 */
export const BASE_URLS = envList('BASE_URL', 'http://127.0.0.1:8080').map(stripTrailingSlash);
/** The first gateway of BASE_URL: setup checks and requests that need one instance. */
export const BASE_URL = BASE_URLS[0];

/** The gateway for this request: the instances of BASE_URL in turn, by VU and iteration. */
export function gateway() {
  if (BASE_URLS.length === 1) {
    return BASE_URL;
  }
  return BASE_URLS[(__VU + __ITER) % BASE_URLS.length];
}
/** Sandbox upstream base URL (no trailing slash); /__sandbox/* lives here. */
export const SANDBOX_URL = stripTrailingSlash(env('SANDBOX_URL', 'http://127.0.0.1:8090'));
/** Profile read by the hot-path script. */
export const PROFILE = env('PROFILE', 'demo');
/** Bearer token the sandbox expects on its Linktree-style API. */
export const SANDBOX_TOKEN = env('SANDBOX_TOKEN', 'sandbox-token');
// Run even when the gateway limits this client (most requests will be 429s).
export const ALLOW_CLIENT_LIMIT = env('ALLOW_CLIENT_LIMIT', '') === '1';

/** URL of GET /v1/profiles/{username} on `base` (default: this request's {@link gateway}). */
export function profileUrl(username, base) {
  return (base || gateway()) + '/v1/profiles/' + encodeURIComponent(username);
}

/**
 * Case-insensitive response header lookup (k6 canonicalises header names,
 * this also copes with any other spelling).
 */
export function header(res, name) {
  if (!res || !res.headers) {
    return undefined;
  }
  if (res.headers[name] !== undefined) {
    return res.headers[name];
  }
  const wanted = name.toLowerCase();
  const keys = Object.keys(res.headers);
  for (let i = 0; i < keys.length; i++) {
    if (keys[i].toLowerCase() === wanted) {
      return res.headers[keys[i]];
    }
  }
  return undefined;
}

/** Parses a JSON response body; null when it is not JSON. */
export function jsonBody(res) {
  if (!res || typeof res.body !== 'string' || res.body.length === 0) {
    return null;
  }
  try {
    return JSON.parse(res.body);
  } catch (e) {
    return null;
  }
}

/** First characters of a body, for error messages. */
export function snippet(res) {
  if (!res) {
    return '(no response)';
  }
  const body = typeof res.body === 'string' ? res.body : '';
  return 'HTTP ' + res.status + (res.error ? ' (' + res.error + ')' : '') + ' ' + body.substring(0, 300);
}

/**
 * Fails setup() early, with a readable message, when the gateway is not
 * listening. /health/live answering 404 (older builds) still counts as up.
 */
export function requireGateway() {
  for (let i = 0; i < BASE_URLS.length; i++) {
    requireOne(BASE_URLS[i]);
  }
}

function requireOne(BASE_URL) {
  const res = http.get(BASE_URL + '/health/live', { tags: { name: 'setup: gateway liveness' } });
  if (res.status === 0) {
    throw new Error('biogate is not reachable at BASE_URL=' + BASE_URL +
      ' (' + res.error + '). Start it with `BIOGATE_EXEMPT_LOOPBACK=true java -jar target/biogate.jar` or set BASE_URL.');
  }
  // The gateway limits each client (200 req/s by default), loopback included: a load run from this host would
  // mostly measure 429s. An answer carrying RateLimit-Policy says this client is limited. The probe asks for a path
  // the gateway does not serve (a 404 counted like any request): reading a profile here would cache it, and
  // viral-spike.js needs its profile uncached (a run with SPIKE_PROFILE=demo always failed).
  const probe = http.get(BASE_URL + '/k6-client-limit-probe', {
    tags: { name: 'setup: client limit' }, responseCallback: http.expectedStatuses(404, 429),
  });
  if (header(probe, 'RateLimit-Policy') && !ALLOW_CLIENT_LIMIT) {
    throw new Error('biogate limits this client (' + header(probe, 'RateLimit-Policy') + '): start it with ' +
      'BIOGATE_EXEMPT_LOOPBACK=true for a load run from the same host (or BIOGATE_TRUSTED_PROXIES for a proxy in ' +
      'front), or set ALLOW_CLIENT_LIMIT=1 to run anyway.');
  }
  return res.status;
}
