// Webhook storm: signed Linktree, LinkMe and Klaviyo deliveries at a constant
// rate, about DUP_PERCENT (default 30) % of them redeliveries of an earlier one.
//
//   LINKTREE_WEBHOOK_SECRET=s1 LINKME_WEBHOOK_SECRET=s2 k6 run k6/webhook-storm.js
//   k6 run -e PROVIDERS=linkme -e LINKME_WEBHOOK_SECRET=s2 k6/webhook-storm.js
//   k6 run -e PROVIDERS=klaviyo -e KLAVIYO_WEBHOOK_SECRET=s3 -e KLAVIYO_BATCH=100 k6/webhook-storm.js
//
// Klaviyo is opt-in (name it in PROVIDERS). Each Klaviyo delivery is a batch of
// KLAVIYO_BATCH (default 10) events; a first batch must be answered
// {"received":KLAVIYO_BATCH,"duplicates":0} and a redelivered batch
// {"received":0,"duplicates":KLAVIYO_BATCH}.
//
// The gateway must run with the same secrets (comma-separated lists are
// accepted by the gateway; k6 signs with the first entry).
//
// Expected answers (CONTRACT.md section 3):
//   first delivery  -> 200 {"received":true}
//   redelivery      -> 200 {"duplicate":true}
//     Linktree: same x-linktree-delivery-id (and body), freshly signed with a
//               new timestamp, as a provider retry would be;
//     LinkMe:   the very same bytes (same envelope id, same signature).
//
// Delivery ids are deterministic: "<provider>-<runId>-<VU>-<iteration>", with
// runId from RUN_ID or the start time, so two runs against the same gateway
// do not collide with each other's dedupe records. A VU only redelivers ids
// whose first delivery it saw answered {"received":true}, and VUs never share
// ids, so "first" and "duplicate" can not race each other.
//
// The run fails (exit 99) when more than 1% of requests fail, a first delivery
// is not {"received":true} or a redelivery is not {"duplicate":true} (rates
// below 0.99), p95/p99 exceed P95_MS/P99_MS, or no redelivery was exercised.
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import {
  BASE_URL, env, envInt, envFloat, envList, firstSecret, jsonBody, requireGateway,
} from './lib/config.js';
import { linkUpdatedBody, postLinktree } from './lib/linktree.js';
import { linkClickEnvelope, postLinkme } from './lib/linkme.js';
import { klaviyoBatchBody, postKlaviyo } from './lib/klaviyo.js';

const PROVIDERS = envList('PROVIDERS', 'linktree,linkme');
const RATE = envInt('WEBHOOK_RATE', 50);           // deliveries per second, per provider
const DURATION = env('DURATION', '30s');
const PRE_VUS = envInt('PRE_VUS', 10);
const MAX_VUS = envInt('MAX_VUS', 100);
const DUP_PERCENT = envInt('DUP_PERCENT', 30);
const P95_MS = envFloat('P95_MS', 100);
const P99_MS = envFloat('P99_MS', 300);
const KEEP_IDS = 50;                               // per VU, per provider
const KLAVIYO_BATCH = envInt('KLAVIYO_BATCH', 10);   // events per Klaviyo delivery (at most 1000)

const LINKTREE_SECRET = firstSecret('LINKTREE_WEBHOOK_SECRET');
const LINKME_SECRET = firstSecret('LINKME_WEBHOOK_SECRET');
const KLAVIYO_SECRET = firstSecret('KLAVIYO_WEBHOOK_SECRET');

function enabled(provider) {
  return PROVIDERS.indexOf(provider) >= 0;
}

if (enabled('linktree') && LINKTREE_SECRET === '') {
  throw new Error('LINKTREE_WEBHOOK_SECRET is not set (k6 and the gateway need the same secret); ' +
    'or run only LinkMe with -e PROVIDERS=linkme');
}
if (enabled('linkme') && LINKME_SECRET === '') {
  throw new Error('LINKME_WEBHOOK_SECRET is not set (k6 and the gateway need the same secret); ' +
    'or run only Linktree with -e PROVIDERS=linktree');
}
if (enabled('klaviyo') && KLAVIYO_SECRET === '') {
  throw new Error('KLAVIYO_WEBHOOK_SECRET is not set (k6 and the gateway need the same secret)');
}
if (enabled('klaviyo') && (KLAVIYO_BATCH < 1 || KLAVIYO_BATCH > 1000)) {
  throw new Error('KLAVIYO_BATCH must be 1-1000, got ' + KLAVIYO_BATCH);
}
if (!enabled('linktree') && !enabled('linkme') && !enabled('klaviyo')) {
  throw new Error('PROVIDERS must name linktree, linkme and/or klaviyo, got "' + PROVIDERS.join(',') + '"');
}

// First deliveries answered 200 {"received":true}.
const firstOk = new Rate('webhook_first_ok');
// Redeliveries answered 200 {"duplicate":true}.
const duplicateOk = new Rate('webhook_duplicate_ok');
const sentFirst = new Counter('webhook_sent_first');
const sentDuplicate = new Counter('webhook_sent_duplicate');
// Klaviyo events queued (answered as received) and recognised as duplicates.
const klaviyoEventsReceived = new Counter('klaviyo_events_received');
const klaviyoEventsDuplicate = new Counter('klaviyo_events_duplicate');

function buildOptions() {
  const scenarios = {};
  const thresholds = {
    webhook_first_ok: ['rate>0.99'],
  };
  // At the end of a run k6 also evaluates thresholds of metrics that got no
  // sample (an empty Rate counts as 0), so these two only exist when
  // redeliveries are wanted; then at least one must have been sent.
  if (DUP_PERCENT > 0) {
    thresholds.webhook_duplicate_ok = ['rate>0.99'];
    thresholds.webhook_sent_duplicate = ['count>0'];
  }
  const providers = ['linktree', 'linkme', 'klaviyo'];
  for (let i = 0; i < providers.length; i++) {
    const p = providers[i];
    if (!enabled(p)) {
      continue;
    }
    scenarios[p] = {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
      exec: p,
    };
    thresholds['http_req_failed{scenario:' + p + '}'] = ['rate<0.01'];
    thresholds['http_req_duration{scenario:' + p + '}'] = ['p(95)<' + P95_MS, 'p(99)<' + P99_MS];
    thresholds['checks{scenario:' + p + '}'] = ['rate>0.99'];
  }
  return {
    scenarios: scenarios,
    thresholds: thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}

export const options = buildOptions();

// Per-VU memory of deliveries that were acknowledged as received (each VU
// has its own JavaScript runtime, so this is never shared between VUs).
const delivered = { linktree: [], linkme: [], klaviyo: [] };

function remember(provider, entry) {
  const list = delivered[provider];
  list.push(entry);
  if (list.length > KEEP_IDS) {
    list.shift();
  }
}

// Deterministic choice: about DUP_PERCENT of the iterations redeliver.
function isRedelivery(provider, iter) {
  if (delivered[provider].length === 0) {
    return false;
  }
  return ((iter * 37 + __VU * 11) % 100) < DUP_PERCENT;
}

function pickEarlier(provider, iter) {
  const list = delivered[provider];
  return list[(iter * 7919 + __VU) % list.length];
}

function answered(res, field) {
  const body = jsonBody(res);
  if (res.status !== 200 || body === null) {
    return false;
  }
  if (body[field] === true) {
    return true;
  }
  // A Klaviyo batch is answered with counts: all new, or all duplicates.
  const all = field === 'received' ? body.received === KLAVIYO_BATCH && body.duplicates === 0
    : body.received === 0 && body.duplicates === KLAVIYO_BATCH;
  if (all && body.received !== undefined) {
    klaviyoEventsReceived.add(body.received);
    klaviyoEventsDuplicate.add(body.duplicates);
  }
  return all;
}

function recordFirst(provider, res, entry) {
  sentFirst.add(1, { provider: provider });
  const okReceived = answered(res, 'received');
  firstOk.add(okReceived, { provider: provider });
  check(res, {
    'first delivery: status 200': function (r) { return r.status === 200; },
    'first delivery: {"received":true}': function () { return okReceived; },
  }, { provider: provider, delivery: 'first' });
  if (okReceived) {
    remember(provider, entry);
  }
}

function recordDuplicate(provider, res) {
  sentDuplicate.add(1, { provider: provider });
  const okDuplicate = answered(res, 'duplicate');
  duplicateOk.add(okDuplicate, { provider: provider });
  check(res, {
    'redelivery: status 200': function (r) { return r.status === 200; },
    'redelivery: {"duplicate":true}': function () { return okDuplicate; },
  }, { provider: provider, delivery: 'duplicate' });
}

export function setup() {
  requireGateway();
  const runId = env('RUN_ID', 'k6' + Date.now().toString(36));
  console.log('webhook storm run id ' + runId + ', providers ' + PROVIDERS.join(','));
  return { runId: runId };
}

export function linktree(data) {
  const iter = __ITER;
  if (isRedelivery('linktree', iter)) {
    const earlier = pickEarlier('linktree', iter);
    const res = postLinktree(BASE_URL, LINKTREE_SECRET, earlier.id, earlier.body,
      { name: 'POST /webhooks/linktree', delivery: 'duplicate' });
    recordDuplicate('linktree', res);
    return;
  }
  const id = 'lt-' + data.runId + '-' + __VU + '-' + iter;
  const body = linkUpdatedBody('lnk_' + __VU + '_' + iter, iter % 20);
  const res = postLinktree(BASE_URL, LINKTREE_SECRET, id, body,
    { name: 'POST /webhooks/linktree', delivery: 'first' });
  recordFirst('linktree', res, { id: id, body: body });
}

export function linkme(data) {
  const iter = __ITER;
  if (isRedelivery('linkme', iter)) {
    const earlier = pickEarlier('linkme', iter);
    const res = postLinkme(BASE_URL, LINKME_SECRET, earlier.body,
      { name: 'POST /webhooks/linkme', delivery: 'duplicate' });
    recordDuplicate('linkme', res);
    return;
  }
  const id = 'lm-' + data.runId + '-' + __VU + '-' + iter;
  const body = linkClickEnvelope(id, 'lnk_' + (iter % 20));
  const res = postLinkme(BASE_URL, LINKME_SECRET, body,
    { name: 'POST /webhooks/linkme', delivery: 'first' });
  recordFirst('linkme', res, { id: id, body: body });
}

export function klaviyo(data) {
  const iter = __ITER;
  if (isRedelivery('klaviyo', iter)) {
    const earlier = pickEarlier('klaviyo', iter);
    const res = postKlaviyo(BASE_URL, KLAVIYO_SECRET, earlier.body,
      { name: 'POST /webhooks/klaviyo', delivery: 'duplicate' });
    recordDuplicate('klaviyo', res);
    return;
  }
  const ids = [];
  for (let i = 0; i < KLAVIYO_BATCH; i++) {
    ids.push('kl-' + data.runId + '-' + __VU + '-' + iter + '-' + i);
  }
  const body = klaviyoBatchBody(ids);
  const res = postKlaviyo(BASE_URL, KLAVIYO_SECRET, body,
    { name: 'POST /webhooks/klaviyo', delivery: 'first' });
  recordFirst('klaviyo', res, { id: ids[0], body: body });
}

export default function (data) {
  if (enabled('linktree')) {
    linktree(data);
  }
  if (enabled('linkme')) {
    linkme(data);
  }
  if (enabled('klaviyo')) {
    klaviyo(data);
  }
}
