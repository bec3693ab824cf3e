// Viral spike: a sudden crowd on ONE profile the gateway has not cached yet.
// The gateway must coalesce the concurrent misses into exactly ONE upstream
// fetch of that profile (single-flight), and still answer every read.
//
//   k6 run k6/viral-spike.js
//   k6 run -e SPIKE_PROFILE=bob -e SPIKE_PEAK_RATE=800 k6/viral-spike.js
//
// IMPORTANT: the profile must not be in the gateway's cache when the run
// starts. The gateway keeps profiles (fresh 60 s, then stale for minutes, and
// in Redis, which a restart of the gateway keeps), so purge the profile through
// the admin API (POST /admin/cache/purge/<name> on the management port) or
// pick another SPIKE_PROFILE before each run. Resetting the sandbox does
// not empty the gateway cache. A run against an already cached profile ends
// with 0 upstream fetches and fails with a message saying so.
//
// setup():    checks that the sandbox serves SPIKE_PROFILE (or creates it with
//             SPIKE_CREATE_PROFILE=1), makes the upstream slow
//             (SPIKE_UPSTREAM_LATENCY_MS, default 300) so that many requests
//             pile up on the first miss, and notes the sandbox's fetch count
//             of the profile. It resets nothing: profiles put into the sandbox
//             by hand stay.
// scenario:   ramping-arrival-rate GET /v1/profiles/{SPIKE_PROFILE}.
// teardown(): reads GET /__sandbox/stats and requires exactly one more
//             fetch of /profiles/<SPIKE_PROFILE> than at setup; otherwise it adds
//             to the `upstream_fetch_mismatch` counter, whose threshold
//             `count==0` makes k6 exit 99. (Metrics emitted in teardown() do
//             count for thresholds; k6 evaluates them after teardown.)
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import {
  SANDBOX_TOKEN, SANDBOX_URL, env, envInt, envFloat, header, jsonBody, profileUrl, requireGateway, snippet,
} from './lib/config.js';
import {
  sandboxFaults, faultsAccepted, sandboxStats, sandboxPutProfile, upstreamProfileFetches,
} from './lib/sandbox.js';

const SPIKE_PROFILE = env('SPIKE_PROFILE', 'alice');
const START_RATE = envInt('SPIKE_START_RATE', 50);
const PEAK_RATE = envInt('SPIKE_PEAK_RATE', 400);
const RAMP = env('SPIKE_RAMP', '5s');
const HOLD = env('SPIKE_HOLD', '20s');
const RAMP_DOWN = env('SPIKE_RAMP_DOWN', '5s');
const PRE_VUS = envInt('PRE_VUS', 100);
const MAX_VUS = envInt('MAX_VUS', 1000);
const P95_MS = envFloat('P95_MS', 250);
const P99_MS = envFloat('P99_MS', 1000);
const UPSTREAM_LATENCY_MS = envInt('SPIKE_UPSTREAM_LATENCY_MS', 300);
// Planned reads allowed to go unsent for want of a free VU: a crowd that did not arrive has not shown coalescing.
const MAX_DROPPED = envInt('MAX_DROPPED', 0);
// by_path key to read; empty = "/profiles/<name>" (or a prefixed variant).
const UPSTREAM_PATH = env('SPIKE_UPSTREAM_PATH', '');
// 1 = PUT a fresh profile into the sandbox first (named SPIKE_PROFILE).
const CREATE_PROFILE = env('SPIKE_CREATE_PROFILE', '0') === '1';


// Incremented (in teardown) when the sandbox did not see exactly one fetch.
const upstreamFetchMismatch = new Counter('upstream_fetch_mismatch');
// Informational: responses that were not served from cache.
const spikeMisses = new Counter('spike_cache_miss');
// Answers that waited for the one fetch (X-Cache: MISS): none means the gateway held a copy, if only a stale one, and
// the single fetch was its background refresh, not a coalesced miss (a run right after outage.js passed so).
const coldMisses = new Counter('spike_cold_miss');

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: START_RATE,
      timeUnit: '1s',
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
      stages: [
        { target: PEAK_RATE, duration: RAMP },
        { target: PEAK_RATE, duration: HOLD },
        { target: 0, duration: RAMP_DOWN },
      ],
      exec: 'spike',
    },
  },
  thresholds: {
    'http_req_failed{scenario:spike}': ['rate<0.01'],
    'http_req_duration{scenario:spike}': ['p(95)<' + P95_MS, 'p(99)<' + P99_MS],
    'checks{scenario:spike}': ['rate>0.99'],
    upstream_fetch_mismatch: ['count==0'],
    spike_cold_miss: ['count>=1'],
    dropped_iterations: ['count<=' + MAX_DROPPED],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

export function setup() {
  requireGateway();
  if (CREATE_PROFILE) {
    const put = sandboxPutProfile(SPIKE_PROFILE, {
      username: SPIKE_PROFILE,
      bio: 'k6 viral spike profile',
      avatar_url: 'https://cdn.example.com/k6/' + encodeURIComponent(SPIKE_PROFILE) + '.png',
      theme: 'light',
      links: [
        { id: 'lnk_k6_1', title: 'One', url: 'https://example.com/1', position: 0, thumbnail_url: null },
        { id: 'lnk_k6_2', title: 'Two', url: 'https://example.com/2', position: 1, thumbnail_url: null },
      ],
    });
    if (put.status < 200 || put.status >= 300) {
      throw new Error('PUT /__sandbox/profiles/' + SPIKE_PROFILE + ' failed: ' + snippet(put));
    }
  }
  // The upstream must have the profile: a spike on a name it does not serve measures cached 404s.
  const upstream = http.get(SANDBOX_URL + '/profiles/' + encodeURIComponent(SPIKE_PROFILE), {
    headers: { Authorization: 'Bearer ' + SANDBOX_TOKEN }, tags: { name: 'setup: sandbox profile' },
  });
  if (upstream.status === 404) {
    throw new Error('the sandbox has no profile ' + SPIKE_PROFILE + ': pick one it serves (demo, alice, bob) or ' +
      'add -e SPIKE_CREATE_PROFILE=1 to create it');
  }
  if (upstream.status !== 200) {
    console.warn('could not check the sandbox for ' + SPIKE_PROFILE + ': ' + snippet(upstream));
  }
  if (UPSTREAM_LATENCY_MS > 0) {
    const res = sandboxFaults({ mode: 'slow', latency_ms: UPSTREAM_LATENCY_MS });
    if (!faultsAccepted(res)) {
      throw new Error('could not make the sandbox slow: ' + snippet(res));
    }
  }
  // The spike's fetches are counted from here (the check above is one of them already).
  const before = upstreamProfileFetches(sandboxStats(), SPIKE_PROFILE, UPSTREAM_PATH);
  upstreamFetchMismatch.add(0);
  return { profile: SPIKE_PROFILE, before: before === null ? 0 : before };
}

export function spike(data) {
  const res = http.get(profileUrl(data.profile), { tags: { name: 'GET /v1/profiles/{username}' } });
  const cache = header(res, 'X-Cache');
  if (cache !== 'HIT') {
    spikeMisses.add(1);
  }
  if (cache === 'MISS') {
    coldMisses.add(1);
  }
  check(res, {
    'status is 200': function (r) { return r.status === 200; },
    'body is the requested profile': function (r) {
      const body = jsonBody(r);
      return body !== null && body.username === data.profile;
    },
  });
}

export default function (data) {
  spike(data);
}

export function teardown(data) {
  const profile = data && data.profile ? data.profile : SPIKE_PROFILE;
  const stats = sandboxStats();
  const total = upstreamProfileFetches(stats, profile, UPSTREAM_PATH);
  const fetches = total === null ? null : total - (data && data.before ? data.before : 0);
  const restored = sandboxFaults({ mode: 'ok' });
  if (!faultsAccepted(restored)) {
    console.error('could not set the sandbox back to mode ok: ' + snippet(restored));
  }
  if (fetches === 1) {
    // Not "OK": one fetch is a coalesced miss only if reads waited for it (spike_cold_miss, checked by its threshold);
    // a stale copy's background refresh is one fetch too.
    console.log('upstream: the sandbox served /profiles/' + profile + ' exactly once during the spike (a coalesced miss'
      + ' if spike_cold_miss counts reads that waited for it)');
    return;
  }
  upstreamFetchMismatch.add(1);
  if (fetches === null) {
    console.error('FAIL: could not read by_path from ' + 'GET /__sandbox/stats: ' + JSON.stringify(stats));
  } else if (fetches === 0) {
    console.error('FAIL: the sandbox never served /profiles/' + profile +
      ': the gateway already held an answer for it (a copy, or a 404 it remembers). Purge it ' +
      '(POST /admin/cache/purge/' + profile + ' on the management port, with the admin token) or pick another ' +
      'SPIKE_PROFILE.');
  } else {
    console.error('FAIL: the sandbox served /profiles/' + profile + ' ' + fetches +
      ' times during the spike; expected exactly 1 (misses were not coalesced). by_path=' +
      JSON.stringify(stats.by_path));
  }
}
