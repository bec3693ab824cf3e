package dev.biogate.webhook;

import dev.biogate.redis.RedisKeys;

import java.util.List;

/**
 * One verified delivery, ready to be deduplicated and queued: who sent it, its id, its event type, the dedupe
 * markers that identify it and its body (the verified bytes, as UTF-8 text).
 */
final class Delivery {

  static final String LINKTREE = "linktree";
  static final String LINKME = "linkme";

  final String provider;
  final String id;
  final String type;
  final List<String> dedupeKeys;
  final String body;

  Delivery(String provider, String id, String type, List<String> dedupeKeys, String body) {
    this.provider = provider;
    this.id = id;
    this.type = type;
    this.dedupeKeys = dedupeKeys;
    this.body = body;
  }

  String historyKey() {
    return RedisKeys.webhookDelivery(provider, id);
  }
}
