// Upstream outage: cached profiles must keep answering 200 while the Linktree
// upstream (the sandbox) is down.
//
//   k6 run k6/outage.js
//   k6 run -e OUTAGE_PROFILES=demo,alice -e DURATION=60s -e OUTAGE_AT=20s k6/outage.js
//
// setup():      sets the sandbox back to mode ok, then reads every profile
//               in OUTAGE_PROFILES until the gateway has it cached.
// reads:        constant-arrival-rate reads of those profiles for DURATION.
// outage:       one iteration at OUTAGE_AT flips the sandbox to
//               {"mode":"down"} (POST /__sandbox/faults), checks that the
//               upstream really stopped serving, and (CHECK_UNCACHED=1) that
//               an uncached profile now gets 503 with Retry-After.
// teardown():   sets the sandbox back to {"mode":"ok"}. If the run is killed
//               before teardown, do it by hand:
//               curl -X POST -d '{"mode":"ok"}' http://127.0.0.1:8090/__sandbox/faults
//
// The run fails (exit 99) when any read of a cached profile is not 200
// (cached_non_200 count==0, checks rate==1, http_req_failed rate==0), when
// the outage could not be started (outage_started count==1), or when p99 of
// the reads exceeds P99_MS.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';
import {
  BASE_URL, BASE_URLS, SANDBOX_URL, SANDBOX_TOKEN, env, envInt, envFloat, envList, header, jsonBody,
  profileUrl, requireGateway, snippet,
} from './lib/config.js';
import { sandboxFaults, faultsAccepted } from './lib/sandbox.js';

const PROFILES = envList('OUTAGE_PROFILES', 'demo,alice,bob');
const RATE = envInt('RATE', 50);
const DURATION = env('DURATION', '40s');
const OUTAGE_AT = env('OUTAGE_AT', '10s');
const MAX_VUS = envInt('MAX_VUS', 100);
// Half a second of arrivals started before the run (at least 25): VUs k6 adds mid-run come too late.
const PRE_VUS = Math.min(MAX_VUS, envInt('PRE_VUS', Math.max(25, Math.ceil(RATE / 2))));
const P99_MS = envFloat('P99_MS', 250);
const CHECK_UNCACHED = env('CHECK_UNCACHED', '1') === '1';

// Reads of a warmed profile that did not answer 200.
const cachedNon200 = new Counter('cached_non_200');
// 1 once the sandbox accepted {"mode":"down"}.
const outageStarted = new Counter('outage_started');
// Informational: reads answered while the gateway marked the copy stale.
const servedStale = new Counter('served_stale');

export const options = {
  scenarios: {
    reads: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
      exec: 'readCached',
    },
    outage: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: 1,
      startTime: OUTAGE_AT,
      maxDuration: '60s',
      exec: 'goDown',
    },
  },
  thresholds: {
    cached_non_200: ['count==0'],
    'checks{scenario:reads}': ['rate==1'],
    'http_req_failed{scenario:reads}': ['rate==0'],
    'http_req_duration{scenario:reads}': ['p(99)<' + P99_MS],
    'checks{scenario:outage}': ['rate==1'],
    outage_started: ['count==1'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

export function setup() {
  requireGateway();
  const reset = sandboxFaults({ mode: 'ok' });
  if (!faultsAccepted(reset)) {
    throw new Error('POST ' + SANDBOX_URL + '/__sandbox/faults failed: ' + snippet(reset) +
      '. Is the sandbox running on SANDBOX_URL?');
  }
  for (let w = 0; w < PROFILES.length * BASE_URLS.length; w++) {
    const url = profileUrl(PROFILES[w % PROFILES.length], BASE_URLS[Math.floor(w / PROFILES.length)]);
    let res = null;
    for (let i = 0; i < 10; i++) {
      res = http.get(url, { tags: { name: 'setup: warm profile' } });
      if (res.status === 200 && header(res, 'X-Cache') === 'HIT') {
        break;
      }
      sleep(0.2);
    }
    if (res.status !== 200) {
      throw new Error('could not warm ' + url + ': ' + snippet(res));
    }
    if (header(res, 'X-Cache') !== 'HIT') {
      console.warn(url + ' still answers X-Cache ' + header(res, 'X-Cache') + ' after warm-up');
    }
  }
  return { profiles: PROFILES };
}

export function readCached(data) {
  const profiles = data.profiles;
  const name = profiles[(__VU + __ITER) % profiles.length];
  const res = http.get(profileUrl(name), { tags: { name: 'GET /v1/profiles/{username}' } });
  cachedNon200.add(res.status === 200 ? 0 : 1);
  if (header(res, 'X-Cache') === 'STALE') {
    servedStale.add(1);
  }
  check(res, {
    'cached profile: status 200': function (r) { return r.status === 200; },
    'cached profile: complete body': function (r) {
      const body = jsonBody(r);
      return body !== null && body.username === name && Array.isArray(body.links);
    },
  });
}

export function goDown(data) {
  const res = sandboxFaults({ mode: 'down' });
  const accepted = faultsAccepted(res);
  check(res, { 'sandbox accepted {"mode":"down"}': function () { return accepted; } });
  if (!accepted) {
    console.error('could not start the outage: ' + snippet(res));
    return;
  }
  outageStarted.add(1);
  console.log('sandbox is now down');

  // The upstream itself must refuse to serve now, or this test proves nothing.
  const direct = http.get(SANDBOX_URL + '/profiles/' + encodeURIComponent(data.profiles[0]), {
    headers: { Authorization: 'Bearer ' + SANDBOX_TOKEN, Accept: 'application/json' },
    tags: { name: 'sandbox: direct profile read' },
    timeout: '15s',
  });
  check(direct, { 'upstream no longer serves profiles': function (r) { return r.status !== 200; } });

  if (CHECK_UNCACHED) {
    // No cached copy + upstream unavailable: 503 JSON error with Retry-After.
    const uncached = 'k6-uncached-' + Date.now().toString(36);
    const r503 = http.get(BASE_URL + '/v1/profiles/' + uncached, {
      tags: { name: 'GET /v1/profiles/{uncached}' },
      timeout: '30s',
      responseCallback: http.expectedStatuses(503),
    });
    check(r503, {
      'uncached profile during outage: 503': function (r) { return r.status === 503; },
      'uncached profile during outage: Retry-After': function (r) {
        return header(r, 'Retry-After') !== undefined;
      },
    });
  }
}

export default function (data) {
  readCached(data);
}

export function teardown() {
  const res = sandboxFaults({ mode: 'ok' });
  if (faultsAccepted(res)) {
    console.log('sandbox back to mode ok');
  } else {
    console.error('could not set the sandbox back to mode ok: ' + snippet(res) +
      ' (POST {"mode":"ok"} to ' + SANDBOX_URL + '/__sandbox/faults by hand)');
  }
}
