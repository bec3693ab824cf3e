// Helpers for the sandbox upstream's test endpoints (docs/openapi.yaml does not cover them; see src/main/java/dev/biogate/sandbox).
// They only exist on the sandbox port (SANDBOX_URL), never on the gateway.
//
//   POST /__sandbox/reset                      forget stats, faults, edits
//   POST /__sandbox/faults {"mode":"ok|down|slow|error|ratelimit","latency_ms":N,"error_rate":0..1}
//   GET  /__sandbox/stats  {"requests":N,"by_path":{"/profiles/alice":N},"rate_limited":N}
//   PUT  /__sandbox/profiles/{username}        replace a profile
import http from 'k6/http';
import { SANDBOX_URL, jsonBody, snippet } from './config.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function ok(res) {
  return res.status >= 200 && res.status < 300;
}

/**
 * POST /__sandbox/faults with the given object, e.g. {mode: 'down'}.
 * Returns the response; the caller decides whether a failure is fatal.
 */
export function sandboxFaults(faults) {
  return http.post(SANDBOX_URL + '/__sandbox/faults', JSON.stringify(faults), {
    headers: JSON_HEADERS,
    tags: { name: 'sandbox: faults' },
  });
}

/** True when the faults call was accepted. */
export function faultsAccepted(res) {
  return ok(res);
}

/** GET /__sandbox/stats parsed, or null when unreachable / not JSON. */
export function sandboxStats() {
  const res = http.get(SANDBOX_URL + '/__sandbox/stats', {
    tags: { name: 'sandbox: stats' },
  });
  if (!ok(res)) {
    console.error('GET ' + SANDBOX_URL + '/__sandbox/stats failed: ' + snippet(res));
    return null;
  }
  return jsonBody(res);
}

/** PUT /__sandbox/profiles/{username} with a profile object. */
export function sandboxPutProfile(username, profile) {
  return http.put(SANDBOX_URL + '/__sandbox/profiles/' + encodeURIComponent(username),
    JSON.stringify(profile), {
      headers: JSON_HEADERS,
      tags: { name: 'sandbox: put profile' },
    });
}

/**
 * How many times the upstream served GET /profiles/{username}, from a stats
 * object. `explicitPath` (optional) names the by_path key to read; otherwise
 * "/profiles/<username>" is used, and if the upstream base has a path prefix
 * (e.g. "/v1/profiles/<username>") keys ending with that suffix are added up.
 * Returns null when the stats have no by_path map.
 */
export function upstreamProfileFetches(stats, username, explicitPath) {
  if (!stats || typeof stats.by_path !== 'object' || stats.by_path === null) {
    return null;
  }
  const byPath = stats.by_path;
  if (explicitPath) {
    return Number(byPath[explicitPath] || 0);
  }
  const suffix = '/profiles/' + username;
  if (byPath[suffix] !== undefined) {
    return Number(byPath[suffix]);
  }
  let total = 0;
  const keys = Object.keys(byPath);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k.length > suffix.length && k.substring(k.length - suffix.length) === suffix) {
      total += Number(byPath[k]);
    }
  }
  return total;
}
