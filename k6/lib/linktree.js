// Linktree webhook signing (docs/webhooks.md).
//
//   x-linktree-signature   = lowercase hex HMAC-SHA256(secret, "<unix-seconds>.<raw body>")
//   x-linktree-timestamp   = <unix-seconds>
//   x-linktree-delivery-id = delivery id; a retry of the same delivery reuses it
//
// The raw body is the exact string that is sent, so sign the string you post
// and never re-serialise it in between.
import crypto from 'k6/crypto';
import http from 'k6/http';

/** Current Unix time in whole seconds. */
export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/** Lowercase hex HMAC-SHA256 over "<timestamp>.<rawBody>". */
export function linktreeSignature(secret, timestamp, rawBody) {
  return crypto.hmac('sha256', secret, String(timestamp) + '.' + rawBody, 'hex');
}

/** The headers of one signed delivery (timestamp defaults to now). */
export function linktreeHeaders(secret, deliveryId, rawBody, timestamp) {
  const ts = timestamp === undefined ? nowSeconds() : timestamp;
  return {
    'Content-Type': 'application/json',
    'x-linktree-signature': linktreeSignature(secret, ts, rawBody),
    'x-linktree-timestamp': String(ts),
    'x-linktree-delivery-id': deliveryId,
  };
}

/** A `link.updated` event body (a JSON string, ready to sign and send). */
export function linkUpdatedBody(linkId, position) {
  return JSON.stringify({
    type: 'link.updated',
    data: {
      link_id: linkId,
      title: 'Load test link ' + linkId,
      url: 'https://example.com/k6/' + encodeURIComponent(linkId),
      position: position,
      thumbnail_url: 'https://cdn.example.com/k6/' + encodeURIComponent(linkId) + '.png',
    },
    timestamp: new Date().toISOString(),
  });
}

/**
 * POSTs a signed delivery to {baseUrl}/webhooks/linktree. `tags` are added to
 * the request's metrics. The signature is always computed fresh, with the
 * current timestamp, as a real retry would be.
 */
export function postLinktree(baseUrl, secret, deliveryId, rawBody, tags) {
  return http.post(baseUrl + '/webhooks/linktree', rawBody, {
    headers: linktreeHeaders(secret, deliveryId, rawBody),
    tags: tags,
  });
}
