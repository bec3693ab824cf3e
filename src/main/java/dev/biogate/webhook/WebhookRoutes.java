package dev.biogate.webhook;

import dev.biogate.redis.ReplicaWatch;
import dev.biogate.config.WebhookOptions;
import dev.biogate.http.ApiException;
import dev.biogate.http.ClientAddress;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.HttpTokens;
import dev.biogate.http.JsonBodies;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Router;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * {@code POST /webhooks/linktree}, {@code POST /webhooks/linkme} and {@code POST /webhooks/klaviyo}. In order, on the
 * head, before the body is asked for ({@code 100 Continue}) or read: the provider must be configured (503), the
 * declared size must fit (413), the body must be JSON (415), the signature headers must be present (401) and
 * well-formed (403), a Linktree delivery id present (400), and the body must fit the instance's body budget (503).
 * Then the actual size must fit (413), the signature is verified from the raw bytes (403) and the bytes must be strict
 * UTF-8 (400) before anything parses them (400); then the delivery is deduplicated and queued and answered
 * {@code 200 {"received":true}} or {@code 200 {"duplicate":true}}; a Klaviyo batch is queued event by event and
 * answered {@code 200 {"received":N,"duplicates":M}}. Handling happens later, in the events consumer: the answer
 * never waits for it. Every answer is JSON.
 */
public final class WebhookRoutes {

  private static final Buffer RECEIVED = Buffer.buffer("{\"received\":true}");
  private static final Buffer DUPLICATE = Buffer.buffer("{\"duplicate\":true}");
  private static final JsonBodies JSON = new JsonBodies("webhook bodies");
  /**
   * A provider not configured here is an operator's fix, not a moment's: the 503 asks the provider (which keeps and
   * retries the delivery) to come back in a few minutes rather than at its own next attempt.
   */
  private static final long DISABLED_RETRY_AFTER_S = 300;
  private static final ApiException LINKTREE_DISABLED = new ApiException(503, "webhook_disabled",
    "linktree webhooks are not accepted: no signing secret is configured", DISABLED_RETRY_AFTER_S);
  private static final ApiException LINKME_DISABLED = new ApiException(503, "webhook_disabled",
    "linkme webhooks are not accepted: no signing secret is configured, or LinkMe ingestion is switched off", DISABLED_RETRY_AFTER_S);
  private static final ApiException KLAVIYO_DISABLED = new ApiException(503, "webhook_disabled",
    "klaviyo webhooks are not accepted: no signing secret is configured", DISABLED_RETRY_AFTER_S);
  private static final ApiException MISSING = new ApiException(401, "missing_signature", "the delivery lacks its signature, its signed timestamp or its webhook id header");
  private static final ApiException INVALID = new ApiException(403, "invalid_signature", "the signature does not match");
  private static final ApiException NOT_UTF8 = new ApiException(400, "invalid_encoding",
    "webhook bodies must be UTF-8 (no overlong forms, surrogates, UTF-16 or NUL bytes)");
  private static final ApiException STALE = new ApiException(403, "stale_timestamp",
    "the signed timestamp is not a time (Unix seconds) within the accepted window");
  private static final ApiException BUSY = new ApiException(503, "ingest_busy",
    "too many deliveries are being received at once; retry shortly", 1);
  private static final ApiException EXPECTATION = new ApiException(417, "expectation_failed",
    "the only expectation accepted is 100-continue");
  /**
   * The fields each provider's delivery carries once (none is a list, RFC 9110 5.3): with two lines of one, the
   * gateway would verify and deduplicate on the first while anything reading the last saw another signature, time or
   * id. A second line is refused, whatever the order.
   */
  private static final java.util.Map<String, List<String>> SINGLE_FIELDS = java.util.Map.of(
    Delivery.LINKTREE, List.of("Content-Type", LinktreeVerifier.SIGNATURE_HEADER, LinktreeVerifier.TIMESTAMP_HEADER,
      Envelopes.DELIVERY_ID_HEADER),
    Delivery.LINKME, List.of("Content-Type", LinkmeVerifier.SIGNATURE_HEADER),
    KlaviyoBatch.PROVIDER, List.of("Content-Type", KlaviyoVerifier.SIGNATURE_HEADER, KlaviyoVerifier.TIMESTAMP_HEADER,
      KlaviyoVerifier.WEBHOOK_ID_HEADER));

  private final WebhookOptions options;
  /** The 413 of a body over the limit, declared or streamed: one limit, told one way. */
  private final ApiException tooLarge;
  private final WebhookStats stats;
  private final WebhookIngest ingest;
  private final LongSupplier clock;
  private volatile WebhookVerifier linktree;
  private volatile WebhookVerifier linkme;
  private volatile WebhookVerifier klaviyo;
  private final KlaviyoIngest klaviyoIngest;
  private final ShardRefusals refusals;
  private final BodyBudget bodies;
  private final ClientAddress clients;
  private final boolean exemptLoopback;

  /** The webhook endpoints of one instance, queueing on {@code redis} (waiting for a replica as {@code replicas} says). */
  public static WebhookRoutes create(WebhookOptions options, io.vertx.redis.client.Redis redis, LongSupplier clock,
                                     WebhookStats stats, ReplicaWatch replicas, java.util.function.Consumer<String> queued,
                                     ClientAddress clients, boolean exemptLoopback) {
    ShardRefusals refusals = new ShardRefusals(options.shards(), clock);
    return new WebhookRoutes(options, new WebhookIngest(redis, options, clock, replicas, queued, refusals),
      new KlaviyoIngest(redis, options, clock, replicas, queued, refusals), refusals, clock, stats, clients, exemptLoopback);
  }

  /** Bytes of webhook bodies held now, while they arrive (the body budget's use). */
  public long bodyBytesHeld() {
    return bodies.used();
  }

  /** The body budget: bytes of webhook bodies held at most at once ({@code webhooks.maxBufferedBytes}). */
  public long bodyBudget() {
    return bodies.capacity();
  }

  /** Bodies arriving for over a second taken back for deliveries that needed their room, since start. */
  public long bodiesEvicted() {
    return bodies.evictions();
  }

  /**
   * How many webhook shards refused their last write with none accepted since (see {@link ShardRefusals}): their
   * deliveries are being answered 503.
   */
  public int refusingShards() {
    return refusals.count();
  }

  /**
   * {@code clients} tells who sent a delivery (the peer, or a trusted proxy's {@code X-Forwarded-For}), for each
   * client's share of the body budget; loopback holds no share of its own when {@code exemptLoopback}.
   */
  WebhookRoutes(WebhookOptions options, WebhookIngest ingest, KlaviyoIngest klaviyoIngest, ShardRefusals refusals,
                LongSupplier clock, WebhookStats stats, ClientAddress clients, boolean exemptLoopback) {
    this.stats = stats;
    this.refusals = refusals;
    this.options = options;
    this.tooLarge = new ApiException(413, "payload_too_large", "webhook bodies are limited to " + options.maxBodyBytes() + " bytes");
    this.ingest = ingest;
    this.clock = clock;
    this.klaviyoIngest = klaviyoIngest;
    this.clients = clients;
    this.exemptLoopback = exemptLoopback;
    this.bodies = BodyBudget.of(options.maxBufferedBytes(), Runtime.getRuntime().maxMemory(), options.maxBodyBytes(),
      options.slowBodyMs());
    secretsChanged(options);
  }

  /** Verifies with these secrets from now on (rotation without restart); tolerances stay as configured at start. */
  public void secretsChanged(WebhookOptions changed) {
    this.linktree = changed.linktreeSecrets().isEmpty() ? null
      : new LinktreeVerifier(changed.linktreeSecrets(), options.pastToleranceS(), options.futureToleranceS());
    this.linkme = changed.linkmeSecrets().isEmpty() || !options.linkmeEnabled() ? null : new LinkmeVerifier(changed.linkmeSecrets());
    this.klaviyo = changed.klaviyoSecrets().isEmpty() ? null
      : new KlaviyoVerifier(changed.klaviyoSecrets(), options.pastToleranceS(), options.futureToleranceS());
  }

  public void mount(Router router) {
    mount(router, "/webhooks/linktree", Delivery.LINKTREE);
    mount(router, "/webhooks/linkme", Delivery.LINKME);
    mount(router, "/webhooks/klaviyo", KlaviyoBatch.PROVIDER);
  }

  private WebhookVerifier verifier(String provider) {
    return Delivery.LINKTREE.equals(provider) ? linktree : Delivery.LINKME.equals(provider) ? linkme : klaviyo;
  }

  private void mount(Router router, String path, String provider) {
    // The checks that need no body (provider configured, declared size, content type, signature headers) come first;
    // the body is then read here, not by vert.x-web's body handler, so that only bytes that arrived hold the budget.
    router.post(path).handler(ctx -> precheck(ctx, verifier(provider), provider)).failureHandler(ctx -> refuse(ctx, provider));
  }

  /** Every refusal passes here: counted by the error code the sender gets, then answered as JSON. */
  private void refuse(RoutingContext ctx, String provider) {
    Throwable f = ctx.failure();
    String code = !(f instanceof ApiException) ? "other"
      : ((ApiException) f).status() == 400 ? "bad_request" : ((ApiException) f).code();
    stats.record(provider, code);
    ErrorResponses.handle(ctx);
  }

  /** Everything that can be refused before reading the body. */
  private void precheck(RoutingContext ctx, WebhookVerifier verifier, String provider) {
    HttpServerRequest req = ctx.request();
    if (verifier == null) {
      ctx.fail(Delivery.LINKTREE.equals(provider) ? LINKTREE_DISABLED : Delivery.LINKME.equals(provider) ? LINKME_DISABLED
        : KLAVIYO_DISABLED);
      return;
    }
    for (String field : SINGLE_FIELDS.get(provider)) {
      if (HttpTokens.repeated(req.headers(), field)) {
        ctx.fail(new ApiException(400, "duplicate_header", field + " appears more than once; it takes one value"));
        return;
      }
    }
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && declaredTooLarge(length)) {
      ctx.fail(tooLarge);
      return;
    }
    // The signature covers the bytes as sent and nothing is inflated here (no decompression bomb): a body in a
    // content coding is refused (RFC 9110 15.5.16) rather than verified and parsed as if it were plain JSON.
    ApiException notPlainJson = JSON.refusal(req.headers());
    if (notPlainJson != null) {
      ctx.fail(notPlainJson);
      return;
    }
    // What the head alone decides is answered now: no 100 Continue, no body read, no share of the body budget.
    Verdict onHead = verifier.screen(req.headers());
    if (onHead != null) {
      ctx.fail(refusal(onHead));
      return;
    }
    String deliveryId = req.getHeader(Envelopes.DELIVERY_ID_HEADER);
    if (Delivery.LINKTREE.equals(provider) && !Envelopes.validId(deliveryId)) {
      ctx.fail(deliveryId == null || deliveryId.isEmpty() ? Envelopes.NO_DELIVERY_ID : Envelopes.INVALID_DELIVERY_ID);
      return;
    }
    byte[] ip = clients.of(req);
    String client = ip == null || (exemptLoopback && ClientAddress.loopback(ip)) ? null : clients.keyText(req);
    // Refused now if the declared body could not fit what the client and everyone hold at this moment; nothing is
    // taken until bytes arrive (a declared length used to be taken whole from the head on, so stalled heads from 16
    // addresses held the budget with no secret).
    long declared = length != null ? declared(length) : 0;
    if (!bodies.fits(client, declared) && !bodies.makeRoom(client, declared, null)) {
      ctx.fail(BUSY);
      return;
    }
    String expect = req.getHeader(HttpHeaders.EXPECT);
    if (expect != null) {
      if (!"100-continue".equalsIgnoreCase(expect.trim())) {
        ctx.fail(EXPECTATION);
        return;
      }
      if (req.version() != HttpVersion.HTTP_1_0) {
        req.response().writeContinue();
      }
    }
    read(ctx, verifier, provider, client);
  }

  /**
   * Reads the body, each chunk taken from the budget as it arrives (refused with {@code 503} when the client's share
   * or the budget cannot take it, {@code 413} past the limit), then {@link #receive}s it. What was taken is given back
   * when the exchange ends, however it ends.
   */
  private void read(RoutingContext ctx, WebhookVerifier verifier, String provider, String client) {
    HttpServerRequest req = ctx.request();
    IncomingBody body = new IncomingBody(bodies, client, options.maxBodyBytes());
    boolean[] done = {false};
    io.vertx.core.Context context = ctx.vertx().getOrCreateContext();
    // Taken back for a delivery that needed its room (from any event loop): refused as a body that found none.
    body.onEvicted(() -> context.runOnContext(v -> {
      if (!done[0]) {
        done[0] = true;
        ctx.fail(BUSY);
      }
    }));
    ctx.addEndHandler(v -> body.release());
    req.exceptionHandler(err -> done[0] = true);
    req.handler(chunk -> {
      if (done[0]) {
        return;
      }
      IncomingBody.Taken taken = body.take(chunk);
      if (taken != IncomingBody.Taken.TAKEN) {
        done[0] = true;
        ctx.fail(taken == IncomingBody.Taken.TOO_LARGE ? tooLarge : BUSY);
      }
    });
    req.endHandler(v -> {
      if (!done[0]) {
        done[0] = true;
        body.arrived();
        receive(ctx, verifier, provider, body.bytes());
      }
    });
    req.resume();
  }

  private static ApiException refusal(Verdict verdict) {
    return verdict.outcome() == Verdict.Outcome.MISSING ? MISSING : verdict.outcome() == Verdict.Outcome.STALE ? STALE : INVALID;
  }

  private void receive(RoutingContext ctx, WebhookVerifier verifier, String provider, Buffer raw) {
    long nowMs = clock.getAsLong();
    Verdict verdict = verifier.verify(ctx.request().headers(), raw, nowMs / 1000);
    if (!verdict.isValid()) {
      ctx.fail(refusal(verdict));
      return;
    }
    if (!strictUtf8(raw)) {
      // Refused before it is parsed or queued: what is queued must decode to exactly the bytes that were verified.
      ctx.fail(NOT_UTF8);
      return;
    }
    if (KlaviyoBatch.PROVIDER.equals(provider)) {
      receiveBatch(ctx, raw);
      return;
    }
    Delivery delivery;
    try {
      delivery = Delivery.LINKTREE.equals(provider) ? Envelopes.linktree(ctx.request().headers(), raw)
        : Envelopes.linkme(raw);
    } catch (ApiException e) {
      ctx.fail(e);
      return;
    }
    ingest.ingest(delivery).onComplete(ar -> {
      if (ar.failed()) {
        stats.record(provider, ar.cause() == WebhookIngest.BACKLOG_FULL ? "backlog_full" : "unavailable");
        ErrorResponses.send(ctx.response(), ar.cause());
        return;
      }
      stats.record(provider, ar.result() ? "received" : "duplicate");
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(ar.result() ? RECEIVED : DUPLICATE);
    });
  }

  /**
   * Whether the body is well-formed UTF-8 (RFC 3629: no overlong forms, no encoded surrogates as CESU-8 writes them,
   * nothing above U+10FFFF) without NUL bytes (which is how UTF-16 text looks when read as UTF-8).
   */
  static boolean strictUtf8(Buffer raw) {
    return strictUtf8(raw.getBytes());
  }

  /**
   * {@link #strictUtf8(Buffer)} on bytes, in one pass without decoding (no copy, no allocation): each sequence's
   * lead byte fixes its length and the range of its second byte (RFC 3629, table 3-7 of the Unicode standard);
   * further bytes are continuation bytes.
   */
  static boolean strictUtf8(byte[] b) {
    int i = 0;
    int n = b.length;
    while (i < n) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        if (c == 0) {
          return false;
        }
        i++;
        continue;
      }
      int len;
      int lo = 0x80;
      int hi = 0xbf;
      if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
      } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
          lo = 0xa0;          // overlong below U+0800
        } else if (c == 0xed) {
          hi = 0x9f;          // U+D800..U+DFFF, surrogates
        }
      } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
          lo = 0x90;          // overlong below U+10000
        } else if (c == 0xf4) {
          hi = 0x8f;          // above U+10FFFF
        }
      } else {
        return false;         // a continuation byte without a lead, 0xc0/0xc1 (overlong), 0xf5..0xff
      }
      if (i + len > n) {
        return false;
      }
      int second = b[i + 1] & 0xff;
      if (second < lo || second > hi) {
        return false;
      }
      for (int k = 2; k < len; k++) {
        if ((b[i + k] & 0xc0) != 0x80) {
          return false;
        }
      }
      i += len;
    }
    return true;
  }

  /** A verified Klaviyo batch: every event deduplicated by its external_id and queued together, or none of them. */
  private void receiveBatch(RoutingContext ctx, Buffer raw) {
    KlaviyoBatch batch;
    try {
      batch = KlaviyoBatch.parse(ctx.request().headers(), raw);
    } catch (ApiException e) {
      ctx.fail(e);
      return;
    }
    klaviyoIngest.ingest(batch).onComplete(ar -> {
      if (ar.failed()) {
        ApiException e = (ApiException) ar.cause();
        stats.record(KlaviyoBatch.PROVIDER, e.code());
        ErrorResponses.send(ctx.response(), e);
        return;
      }
      // A batch that brought nothing new is a duplicate delivery, as a repeated Linktree or LinkMe delivery is.
      stats.record(KlaviyoBatch.PROVIDER, ar.result().received() == 0 && ar.result().duplicates() > 0 ? "duplicate" : "received");
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end("{\"received\":" + ar.result().received() + ",\"duplicates\":" + ar.result().duplicates() + "}");
    });
  }

  private boolean declaredTooLarge(String length) {
    return declared(length) > options.maxBodyBytes();
  }

  /** The declared body length (the decoder has checked it is a decimal number); the size limit when unreadable. */
  private long declared(String length) {
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return options.maxBodyBytes();
    }
  }
}
