// Klaviyo system-webhook signing (POST /webhooks/klaviyo).
//
//   Klaviyo-Signature  = lowercase hex HMAC-SHA256(secret, <raw body><timestamp>)
//                        (the body bytes immediately followed by the timestamp, no separator)
//   Klaviyo-Timestamp  = <unix-seconds>
//   Klaviyo-Webhook-Id = the webhook's id; must equal meta.klaviyo_webhook_id in the body
//
// Body {"data":[{"topic","external_id","payload"}, more events],"meta":{"klaviyo_webhook_id":id}}, up to
// 1,000 events; the gateway dedupes each event by external_id and answers
// 200 {"received":N,"duplicates":M}.
import crypto from 'k6/crypto';
import http from 'k6/http';

export const KLAVIYO_WEBHOOK_ID = '01HK6WEBHOOK';

/** Lowercase hex HMAC-SHA256 over rawBody followed by the timestamp. */
export function klaviyoSignature(secret, timestamp, rawBody) {
  return crypto.hmac('sha256', secret, rawBody + String(timestamp), 'hex');
}

/** The headers of one signed batch (timestamp defaults to now). */
export function klaviyoHeaders(secret, webhookId, rawBody, timestamp) {
  const ts = timestamp === undefined ? Math.floor(Date.now() / 1000) : timestamp;
  return {
    'Content-Type': 'application/json',
    'Klaviyo-Signature': klaviyoSignature(secret, ts, rawBody),
    'Klaviyo-Timestamp': String(ts),
    'Klaviyo-Webhook-Id': webhookId,
  };
}

/** A batch body (a JSON string) with one clicked-email event per external id. */
export function klaviyoBatchBody(externalIds, webhookId) {
  const data = [];
  for (let i = 0; i < externalIds.length; i++) {
    data.push({
      topic: 'event:klaviyo.clicked_email',
      external_id: externalIds[i],
      payload: { email: 'reader' + (i % 100) + '@example.com', campaign: 'k6' },
    });
  }
  return JSON.stringify({
    data: data,
    meta: {
      klaviyo_account_id: 'K6ACCOUNT',
      klaviyo_webhook_id: webhookId === undefined ? KLAVIYO_WEBHOOK_ID : webhookId,
      timestamp: new Date().toISOString(),
    },
  });
}

/** POSTs a signed batch to {baseUrl}/webhooks/klaviyo, freshly signed now. */
export function postKlaviyo(baseUrl, secret, rawBody, tags, webhookId) {
  return http.post(baseUrl + '/webhooks/klaviyo', rawBody, {
    headers: klaviyoHeaders(secret, webhookId === undefined ? KLAVIYO_WEBHOOK_ID : webhookId, rawBody),
    tags: tags,
  });
}
