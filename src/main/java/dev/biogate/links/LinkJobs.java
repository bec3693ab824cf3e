package dev.biogate.links;

import dev.biogate.config.JobsOptions;
import dev.biogate.http.ApiException;
import dev.biogate.http.Usernames;
import dev.biogate.ops.AdminHandler;
import dev.biogate.upstream.LinktreeClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.redis.client.Redis;

import java.util.List;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Bulk link changes for a creator, applied through the upstream budget so a campaign launch never bursts the rate
 * limit: {@code POST /admin/creators/{username}/links/batch} stores the job in Redis and answers
 * {@code 202 {"job": id}}; any instance applies it ({@link LinkJobRunner}) and {@code GET /admin/jobs/{id}} shows its
 * progress and every operation's result. Both routes sit under {@code /admin/*}, behind the admin token.
 * <p>
 * Settings: section {@code jobs} ({@link JobsOptions}).
 */
public final class LinkJobs {

  private static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final LinkJobStore store;
  private final LinkJobRunner runner;
  private final LongSupplier clock;

  public LinkJobs(Vertx vertx, Redis redis, LinktreeClient upstream, JobsOptions options, LongSupplier clock) {
    this.clock = clock;
    this.store = new LinkJobStore(redis);
    this.runner = new LinkJobRunner(vertx, store, upstream, options.pollMs(), options.leaseMs(), clock);
  }

  public void mount(Router router) {
    router.post("/admin/creators/:username/links/batch")
      .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
      .handler(this::submit);
    router.get("/admin/jobs/:id").handler(ctx -> AdminHandler.answer(ctx, () -> jobId(ctx.pathParam("id")),
      id -> store.describe(id).compose(v -> v == null
        ? Future.failedFuture(new ApiException(404, "not_found", "no job " + id)) : Future.succeededFuture(v))));
  }

  private void submit(RoutingContext ctx) {
    String username = Usernames.normalize(ctx.pathParam("username"));
    AdminHandler.answer(ctx, () -> {
      if (username == null) {
        throw Usernames.INVALID;
      }
      return LinkBatch.parse(ctx.body().buffer());
    }, (List<LinkOp> ops) -> {
      String id = UUID.randomUUID().toString().replace("-", "");
      return store.create(id, username, ops, clock.getAsLong()).map(v -> {
        runner.scan();
        ctx.response().setStatusCode(202).putHeader("Location", "/admin/jobs/" + id);
        return new JsonObject().put("job", id);
      });
    });
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
