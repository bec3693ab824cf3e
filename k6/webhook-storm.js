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
// Expected answers (docs/openapi.yaml):
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
// below 0.99), p95/p99 exceed P95_MS/P99_MS, no redelivery was exercised, or
// more than MAX_DROPPED (default 0) planned deliveries were never sent for
// want of a free VU (raise PRE_VUS, and MAX_VUS with it). setup() sends one signed delivery per
// provider first and stops the run, saying what the gateway answered, when it
// is refused (another secret, none configured).
//
// Failover drills: with -e RETRY_503=1 every delivery answered 503 is sent
// again, as providers do, after its Retry-After (1-5 s), for at most
// RETRY_503_MAX_S (default 60) seconds. A 503 is then not a failed request;
// the run fails when a delivery was never answered 200 (webhook_never_accepted),
// a final answer is wrong, or planned deliveries were never sent
// (dropped_iterations). Latency is reported but not held to a budget unless
// P95_MS/P99_MS are given: answers during a switch are slow by nature. A first
// delivery retried after a 503 may be answered {"duplicate":true}: the attempt
// that got the 503 had been stored.
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import {
  BASE_URL, BASE_URLS, env, envInt, envFloat, envList, firstSecret, gateway, jsonBody, requireGateway,
} from './lib/config.js';
import { linkUpdatedBody, linktreeHeaders, postLinktree } from './lib/linktree.js';
import { linkClickEnvelope, linkmeHeaders, postLinkme } from './lib/linkme.js';
import { KLAVIYO_WEBHOOK_ID, klaviyoBatchBody, klaviyoHeaders, postKlaviyo } from './lib/klaviyo.js';

const PROVIDERS = envList('PROVIDERS', 'linktree,linkme');
const RETRY_503 = env('RETRY_503', '0') === '1';     // retry 503s as a provider would (failover drills)
// Deliveries per second, per provider. A failover drill holds a VU per delivery waiting out its 503s: 10/s by default.
const RATE = envInt('WEBHOOK_RATE', RETRY_503 ? 10 : 50);
const DURATION = env('DURATION', '30s');
const RETRY_503_MAX_S = envInt('RETRY_503_MAX_S', 60);
// A delivery waiting out a 503 holds its VU until it is accepted, for at most RETRY_503_MAX_S: with VUs for that long
// of arrivals (and 5 s for the last answer) none is ever dropped, however long the 503 window. VUs for 20 s of arrivals
// dropped 103-568 deliveries when a Cluster master was killed (about 40 s of 503s on its shards).
const MAX_VUS = envInt('MAX_VUS', RETRY_503 ? Math.max(100, RATE * (RETRY_503_MAX_S + 5)) : 100);
// Started before the run: a VU k6 adds mid-run comes too late for the arrivals due while it starts, which count as
// dropped (10 pre-allocated VUs dropped 40 deliveries at 50/s with 23 in use). A failover drill starts all of them:
// every delivery of a 503 window holds its VU until it is accepted; with 5 s of arrivals ready a Sentinel drill
// dropped 130 deliveries, and with 12 s ready (k6 adding the rest) a Cluster master's ~40-s window dropped 119.
const PRE_VUS = Math.min(MAX_VUS, envInt('PRE_VUS', MAX_VUS));
// Deliveries the arrival rate planned but no VU was free to send: none, or the run did not send what it claims.
const MAX_DROPPED = envInt('MAX_DROPPED', 0);
const DUP_PERCENT = envInt('DUP_PERCENT', 30);
const P95_MS = envFloat('P95_MS', 100);
const P99_MS = envFloat('P99_MS', 300);
// A failover drill holds the accepted deliveries to a latency budget only when one is given.
const LATENCY_GATED = !RETRY_503 || env('P95_MS', '') !== '' || env('P99_MS', '') !== '';
const KEEP_IDS = 50;                               // per VU, per provider
const WARM_KEPT = 20;                              // warm-up deliveries handed to every VU, per provider
// Delivery ids start with the provider's prefix: lt-, lm-, kl- (the first two letters named Linktree and LinkMe alike).
const ID_PREFIX = { linktree: 'lt', linkme: 'lm', klaviyo: 'kl' };
const KLAVIYO_BATCH = envInt('KLAVIYO_BATCH', 10);   // events per Klaviyo delivery (at most 1000)
// Deliveries per provider sent by setup() before the measured run, 10 at a time, answers not held to any budget: a
// gateway started just before the run interprets its ingest code at first, and on a busy host its first 10 s of a
// 50/s storm had a p95 of 80-200 ms against 2-5 ms once warm. 0 turns the warm-up off.
const WARMUP_DELIVERIES = envInt('WARMUP_DELIVERIES', 300);
// Seconds setup() then leaves the gateway to handle what the warm-up queued (and to compile what handling runs).
const WARMUP_SETTLE_S = envInt('WARMUP_SETTLE_S', 3);

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
// RETRY_503=1: attempts answered 503 and sent again; deliveries never answered 200.
const retried503 = new Counter('webhook_retried_503');
const neverAccepted = new Counter('webhook_never_accepted');
const retriedUnreachable = new Counter('webhook_retried_unreachable');

if (RETRY_503) {
  // A 503 is the gateway asking for a retry, which this run makes: not a failed request.
  http.setResponseCallback(http.expectedStatuses(200, 503));
}

function buildOptions() {
  const scenarios = {};
  const thresholds = {
    webhook_first_ok: ['rate>0.99'],
    dropped_iterations: ['count<=' + MAX_DROPPED],
  };
  // At the end of a run k6 also evaluates thresholds of metrics that got no
  // sample (an empty Rate counts as 0), so these two only exist when
  // redeliveries are wanted; then at least one must have been sent.
  if (RETRY_503) {
    thresholds.webhook_never_accepted = ['count==0'];
  }
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
    if (RETRY_503) {
      // A delivery still waiting out 503s when the arrivals end finishes (accepted, or counted never accepted) rather
      // than being cut off uncounted: k6's default 30 s interrupted 48 iterations of a Cluster drill that exited 0.
      scenarios[p].gracefulStop = (RETRY_503_MAX_S + 60) + 's';
    }
    if (!RETRY_503) {
      // With RETRY_503 every attempt that failed is retried and a delivery never answered 200 fails the run
      // (webhook_never_accepted): connections refused by a killed instance are attempts, not failed deliveries.
      thresholds['http_req_failed{scenario:' + p + '}'] = ['rate<0.01'];
    }
    // In a failover drill the answers that ask for a retry (503 after waiting for a replica) are never held to the
    // latency budget; the deliveries accepted are when a budget is given.
    const timed = RETRY_503 ? 'http_req_duration{scenario:' + p + ',status:200}' : 'http_req_duration{scenario:' + p + '}';
    if (LATENCY_GATED) {
      thresholds[timed] = ['p(95)<' + P95_MS, 'p(99)<' + P99_MS];
    }
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
/**
 * The deliveries this VU may send again: its own accepted ones, else those of the warm-up (setup() hands some to
 * every VU). A VU of a failover drill runs an iteration or two (it has VUs for a minute of arrivals), so with only
 * its own it had none to redeliver, and a drill on a Cluster sent no redelivery at all.
 */
function earlier(provider, data) {
  const own = delivered[provider];
  return own.length > 0 ? own : (data.warm && data.warm[provider]) || [];
}

function isRedelivery(provider, iter, data) {
  if (earlier(provider, data).length === 0) {
    return false;
  }
  return ((iter * 37 + __VU * 11) % 100) < DUP_PERCENT;
}

function pickEarlier(provider, iter, data) {
  const list = earlier(provider, data);
  return list[(iter * 7919 + __VU) % list.length];
}

/** Seconds to wait before sending again: the answer's Retry-After, 1 to 5. */
function retryDelay(res) {
  const after = parseInt(res.headers['Retry-After'], 10);
  return isNaN(after) ? 1 : Math.min(5, Math.max(1, after));
}

/**
 * Sends with `post(base)` to a gateway; with RETRY_503, again after each 503
 * (waiting its Retry-After), and after each connection that failed (refused
 * or reset: a killed instance) to the next gateway of BASE_URLS a second
 * later, as a provider retries, until another answer or RETRY_503_MAX_S have
 * passed. Returns the last answer and whether any attempt was answered 503
 * or failed.
 */
function deliver(post) {
  let base = gateway();
  let res = post(base);
  let retried = false;
  const deadline = Date.now() + RETRY_503_MAX_S * 1000;
  while (RETRY_503 && (res.status === 503 || res.status === 0) && Date.now() < deadline) {
    retried = true;
    if (res.status === 0) {
      retriedUnreachable.add(1);
      base = BASE_URLS[(BASE_URLS.indexOf(base) + 1) % BASE_URLS.length];
      sleep(1);
    } else {
      retried503.add(1);
      sleep(retryDelay(res));
    }
    res = post(base);
  }
  if (RETRY_503 && res.status !== 200) {
    neverAccepted.add(1);
  }
  return { res: res, retried: retried };
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

function recordFirst(provider, sent, entry) {
  const res = sent.res;
  sentFirst.add(1, { provider: provider });
  // After a 503, the attempt that got it may have been stored: then the retry is a duplicate.
  const okReceived = answered(res, 'received') || (sent.retried && answered(res, 'duplicate'));
  firstOk.add(okReceived, { provider: provider });
  check(res, {
    'first delivery: status 200': function (r) { return r.status === 200; },
    'first delivery: accepted as new': function () { return okReceived; },
  }, { provider: provider, delivery: 'first' });
  if (okReceived) {
    remember(provider, entry);
  }
}

function recordDuplicate(provider, sent) {
  const res = sent.res;
  sentDuplicate.add(1, { provider: provider });
  const okDuplicate = answered(res, 'duplicate');
  duplicateOk.add(okDuplicate, { provider: provider });
  check(res, {
    'redelivery: status 200': function (r) { return r.status === 200; },
    'redelivery: recognised as a duplicate': function () { return okDuplicate; },
  }, { provider: provider, delivery: 'duplicate' });
}

/**
 * One signed delivery per provider before the storm: a gateway that refuses them (another secret, none configured)
 * stops the run here with what it answered, instead of a whole run of failed checks that never say why.
 */
function probeProvider(provider, runId) {
  const id = ID_PREFIX[provider] + '-' + runId + '-probe';
  const tags = { name: 'setup: ' + provider + ' delivery' };
  const post = provider === 'linktree'
    ? () => postLinktree(BASE_URL, LINKTREE_SECRET, id, linkUpdatedBody('lnk_probe', 0), tags)
    : provider === 'linkme' ? () => postLinkme(BASE_URL, LINKME_SECRET, linkClickEnvelope(id, 'lnk_probe'), tags)
      : () => postKlaviyo(BASE_URL, KLAVIYO_SECRET, klaviyoBatchBody(['kl-' + runId + '-probe']), tags);
  let res = post();
  // A retryable 503 (a Redis switch, a full backlog) is waited out for a while; webhook_disabled never passes.
  for (let i = 0; i < 10 && res.status === 503 && (jsonBody(res) || {}).error !== 'webhook_disabled'; i++) {
    sleep(retryDelay(res));
    res = post();
  }
  if (res.status !== 200) {
    const body = jsonBody(res) || {};
    const secret = provider.toUpperCase() + '_WEBHOOK_SECRET';
    const hint = body.error === 'webhook_disabled' ? 'the gateway has no ' + secret + ': start it with the same secret as k6'
      : body.error === 'invalid_signature' ? 'k6 and the gateway sign with different secrets: give both the same ' + secret
        : res.status === 0 ? 'no answer (' + res.error + ')' : 'see the gateway log';
    throw new Error('the gateway refused a signed ' + provider + ' delivery: ' + res.status + ' ' +
      (body.error || '') + ' (' + (body.message || String(res.body).substring(0, 120)) + '); ' + hint);
  }
}

/**
 * Sends WARMUP_DELIVERIES first deliveries of `provider`, 10 at a time, outside every scenario (their answers count
 * in no threshold). Each is a real delivery the gateway queues and handles like the storm's. Returns up to
 * WARM_KEPT of those accepted as new, for VUs without accepted deliveries of their own to send again.
 */
function warmUp(provider, runId) {
  const tags = { name: 'setup: ' + provider + ' warm-up' };
  const prefix = ID_PREFIX[provider] + '-' + runId + '-warm-';
  const kept = [];
  let refused = 0;
  for (let sent = 0; sent < WARMUP_DELIVERIES; sent += 10) {
    const batch = [];
    for (let i = sent; i < Math.min(sent + 10, WARMUP_DELIVERIES); i++) {
      if (provider === 'linktree') {
        const body = linkUpdatedBody('lnk_warm_' + i, i % 20);
        batch.push({ method: 'POST', url: BASE_URLS[i % BASE_URLS.length] + '/webhooks/linktree', body: body,
          params: { headers: linktreeHeaders(LINKTREE_SECRET, prefix + i, body), tags: tags } });
      } else if (provider === 'linkme') {
        const body = linkClickEnvelope(prefix + i, 'lnk_' + (i % 20));
        batch.push({ method: 'POST', url: BASE_URLS[i % BASE_URLS.length] + '/webhooks/linkme', body: body,
          params: { headers: linkmeHeaders(LINKME_SECRET, body), tags: tags } });
      } else {
        const body = klaviyoBatchBody([prefix + i]);
        batch.push({ method: 'POST', url: BASE_URLS[i % BASE_URLS.length] + '/webhooks/klaviyo', body: body,
          params: { headers: klaviyoHeaders(KLAVIYO_SECRET, KLAVIYO_WEBHOOK_ID, body), tags: tags } });
      }
    }
    const answers = http.batch(batch);
    for (let i = 0; i < answers.length; i++) {
      refused += answers[i].status === 200 ? 0 : 1;
      if (kept.length < WARM_KEPT && answered(answers[i], 'received')) {
        kept.push({ id: prefix + (sent + i), body: batch[i].body });
      }
    }
  }
  if (refused > 0) {
    console.warn(provider + ' warm-up: ' + refused + ' of ' + WARMUP_DELIVERIES + ' deliveries were not answered 200');
  }
  return kept;
}

export function setup() {
  requireGateway();
  const runId = env('RUN_ID', 'k6' + Date.now().toString(36));
  for (let i = 0; i < PROVIDERS.length; i++) {
    if (enabled(PROVIDERS[i])) {
      probeProvider(PROVIDERS[i], runId);
    }
  }
  const warm = {};
  for (let i = 0; i < PROVIDERS.length; i++) {
    if (enabled(PROVIDERS[i]) && WARMUP_DELIVERIES > 0) {
      warm[PROVIDERS[i]] = warmUp(PROVIDERS[i], runId);
    }
  }
  if (WARMUP_DELIVERIES > 0) {
    sleep(WARMUP_SETTLE_S);
  }
  console.log('webhook storm run id ' + runId + ', providers ' + PROVIDERS.join(','));
  return { runId: runId, warm: warm };
}

export function linktree(data) {
  const iter = __ITER;
  if (isRedelivery('linktree', iter, data)) {
    const earlier = pickEarlier('linktree', iter, data);
    recordDuplicate('linktree', deliver(base => postLinktree(base, LINKTREE_SECRET, earlier.id, earlier.body,
      { name: 'POST /webhooks/linktree', delivery: 'duplicate' })));
    return;
  }
  const id = 'lt-' + data.runId + '-' + __VU + '-' + iter;
  const body = linkUpdatedBody('lnk_' + __VU + '_' + iter, iter % 20);
  recordFirst('linktree', deliver(base => postLinktree(base, LINKTREE_SECRET, id, body,
    { name: 'POST /webhooks/linktree', delivery: 'first' })), { id: id, body: body });
}

export function linkme(data) {
  const iter = __ITER;
  if (isRedelivery('linkme', iter, data)) {
    const earlier = pickEarlier('linkme', iter, data);
    recordDuplicate('linkme', deliver(base => postLinkme(base, LINKME_SECRET, earlier.body,
      { name: 'POST /webhooks/linkme', delivery: 'duplicate' })));
    return;
  }
  const id = 'lm-' + data.runId + '-' + __VU + '-' + iter;
  const body = linkClickEnvelope(id, 'lnk_' + (iter % 20));
  recordFirst('linkme', deliver(base => postLinkme(base, LINKME_SECRET, body,
    { name: 'POST /webhooks/linkme', delivery: 'first' })), { id: id, body: body });
}

export function klaviyo(data) {
  const iter = __ITER;
  if (isRedelivery('klaviyo', iter, data)) {
    const earlier = pickEarlier('klaviyo', iter, data);
    recordDuplicate('klaviyo', deliver(base => postKlaviyo(base, KLAVIYO_SECRET, earlier.body,
      { name: 'POST /webhooks/klaviyo', delivery: 'duplicate' })));
    return;
  }
  const ids = [];
  for (let i = 0; i < KLAVIYO_BATCH; i++) {
    ids.push('kl-' + data.runId + '-' + __VU + '-' + iter + '-' + i);
  }
  const body = klaviyoBatchBody(ids);
  recordFirst('klaviyo', deliver(base => postKlaviyo(base, KLAVIYO_SECRET, body,
    { name: 'POST /webhooks/klaviyo', delivery: 'first' })), { id: ids[0], body: body });
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
