package dev.biogate.links;

import dev.biogate.config.JobsOptions;
import dev.biogate.crypto.Sha256;
import dev.biogate.http.ApiException;
import dev.biogate.http.JsonBodies;
import dev.biogate.http.Usernames;
import dev.biogate.ops.AdminHandler;
import dev.biogate.redis.ReplicaWatch;
import dev.biogate.upstream.LinktreeClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.redis.client.Redis;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Bulk link changes for a creator, applied through the upstream budget so a campaign launch never bursts the rate
 * limit: {@code POST /admin/creators/{username}/links/batch} stores the job in Redis and answers
 * {@code 202 {"job": id}}; any instance applies it ({@link LinkJobRunner}) and {@code GET /admin/jobs/{id}} shows its
 * progress and every operation's result. Both routes sit under {@code /admin/*}, behind the admin token.
 * <p>
 * A job is answered 202 only once it is durable (see {@link LinkJobStore#create}); a submission may then be answered
 * 503 although its job stands. With an {@code Idempotency-Key} header the job's id derives from the creator and the
 * key, so a retry finds the job it already created instead of creating a second one (409 when the key comes with
 * another batch). Without one every submission is a new job.
 * <p>
 * Settings: section {@code jobs} ({@link JobsOptions}).
 */
public final class LinkJobs {

  private static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final LinkJobStore store;
  private final LinkJobRunner runner;
  private final LongSupplier clock;

  /**
   * {@code replicas}/{@code replicaWaitMs}: when and how long a new job waits for a replica, as a webhook does;
   * {@code finished}: told the creator of each finished job (the gateway marks the cached copy outdated).
   */
  public LinkJobs(Vertx vertx, Redis redis, LinktreeClient upstream, JobsOptions options, LongSupplier clock,
                  ReplicaWatch replicas, long replicaWaitMs, java.util.function.Function<String, Future<Void>> finished) {
    this.clock = clock;
    this.store = new LinkJobStore(redis, replicas, replicaWaitMs);
    this.runner = new LinkJobRunner(vertx, store, upstream, options.pollMs(), options.leaseMs(), clock, finished);
  }

  public void mount(Router router) {
    // Its own route, before the body's: vert.x-web lets no handler precede a BodyHandler on one route.
    router.post("/admin/creators/:username/links/batch").handler(LinkJobs::jsonOnly);
    router.post("/admin/creators/:username/links/batch")
      .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
      .handler(this::submit);
    router.get("/admin/jobs/:id").handler(ctx -> AdminHandler.answer(ctx, () -> jobId(ctx.pathParam("id")),
      id -> store.describe(id).compose(v -> v == null
        ? Future.failedFuture(new ApiException(404, "not_found", "no job " + id)) : Future.succeededFuture(v))));
  }

  /** A batch is plain UTF-8 JSON: anything else is its {@code 415} before the body is read. */
  private static void jsonOnly(RoutingContext ctx) {
    ApiException refused = JSON.refusal(ctx.request().headers());
    if (refused == null) {
      ctx.next();
    } else {
      ctx.fail(refused);
    }
  }

  private void submit(RoutingContext ctx) {
    String username = Usernames.normalize(ctx.pathParam("username"));
    String key = ctx.request().getHeader("Idempotency-Key");
    AdminHandler.answer(ctx, () -> {
      if (username == null) {
        throw Usernames.INVALID;
      }
      if (key != null && !validKey(key)) {
        throw INVALID_KEY;
      }
      return LinkBatch.parse(ctx.body().buffer());
    }, (List<LinkOp> ops) -> {
      // With an Idempotency-Key, the creator and the key name one job (32 hex digits, as a random id).
      String id = key == null ? UUID.randomUUID().toString().replace("-", "")
        : Sha256.hex((username + '\n' + key).getBytes(StandardCharsets.UTF_8), 16);
      return store.create(id, username, Sha256.hex(ctx.body().buffer().getBytes(), 16), ops, clock.getAsLong()).map(v -> {
        runner.scan();
        ctx.response().setStatusCode(202).putHeader("Location", "/admin/jobs/" + id);
        return new JsonObject().put("job", id);
      });
    });
  }

  private static final JsonBodies JSON = new JsonBodies("link batches");

  static final ApiException INVALID_KEY = new ApiException(400, "invalid_idempotency_key",
    "Idempotency-Key must be 1-128 visible ASCII characters");

  private static boolean validKey(String key) {
    if (key.isEmpty() || key.length() > 128) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      if (key.charAt(i) <= ' ' || key.charAt(i) >= 0x7F) {
        return false;
      }
    }
    return true;
  }

  private static String jobId(String id) {
    if (id == null || id.length() != 32 || !id.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
      throw new ApiException(400, "invalid_id", "job ids are 32 lowercase hex digits");
    }
    return id;
  }

  public void start() {
    runner.start();
  }

  public Future<Void> stop() {
    return runner.stop();
  }
}
