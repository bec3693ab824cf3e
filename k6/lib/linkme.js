// LinkMe webhook signing (docs/webhooks.md).
//
//   X-LinkMe-Signature: sha256=<lowercase hex HMAC-SHA256(secret, raw body)>
//   envelope {"id","event","ts","app_id","data"}; at-least-once delivery,
//   receivers dedupe on "id".
import crypto from 'k6/crypto';
import http from 'k6/http';

/** "sha256=" + lowercase hex HMAC-SHA256 of the raw body. */
export function linkmeSignature(secret, rawBody) {
  return 'sha256=' + crypto.hmac('sha256', secret, rawBody, 'hex');
}

/** The headers of one signed delivery. */
export function linkmeHeaders(secret, rawBody) {
  return {
    'Content-Type': 'application/json',
    'X-LinkMe-Signature': linkmeSignature(secret, rawBody),
  };
}

/** An envelope body (a JSON string, ready to sign and send). */
export function linkmeEnvelope(id, event, data, appId) {
  return JSON.stringify({
    id: id,
    event: event,
    ts: new Date().toISOString(),
    app_id: appId === undefined ? 'app_k6' : appId,
    data: data,
  });
}

/** A `link.click` envelope for the given link id. */
export function linkClickEnvelope(id, linkId) {
  return linkmeEnvelope(id, 'link.click', { link_id: linkId });
}

/**
 * POSTs a signed envelope to {baseUrl}/webhooks/linkme. A redelivery sends
 * the very same bytes (same id, same signature).
 */
export function postLinkme(baseUrl, secret, rawBody, tags) {
  return http.post(baseUrl + '/webhooks/linkme', rawBody, {
    headers: linkmeHeaders(secret, rawBody),
    tags: tags,
  });
}
