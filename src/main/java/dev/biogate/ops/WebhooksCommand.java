package dev.biogate.ops;

import dev.biogate.config.BiogateConfig;
import dev.biogate.config.LinktreeOptions;
import dev.biogate.upstream.Lane;
import dev.biogate.upstream.LaneShares;
import dev.biogate.upstream.LinktreeClient;
import dev.biogate.upstream.LocalBudget;
import dev.biogate.upstream.UpstreamException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code java -jar biogate.jar webhooks list|register|delete|enable}: manages this gateway's Linktree webhook
 * subscription through the upstream API ({@code GET|POST /webhooks}, {@code DELETE /webhooks/{id}},
 * {@code POST /webhooks/{id}/enable}), with the same configuration as the gateway ({@code LINKTREE_API_BASE},
 * {@code LINKTREE_API_TOKEN[_FILE]}). The token is only ever sent in the {@code Authorization} header; nothing
 * printed carries it, and secret-looking fields of upstream answers are withheld.
 * <p>
 * The few calls a command makes are not taken from the cluster budget (that needs Redis, which an operator's shell
 * may not reach); the gateway's budget stays below the upstream's hard limit (90 of 100 per minute) to leave this
 * margin. Exit status: 0 done, 1 upstream refused or failed, 2 usage or configuration error.
 */
public final class WebhooksCommand {

  public static final String USAGE = "usage: java -jar biogate.jar webhooks list\n"
    + "       java -jar biogate.jar webhooks register --url <https://.../webhooks/linktree> --events <type,type,...>\n"
    + "       java -jar biogate.jar webhooks delete <id>\n"
    + "       java -jar biogate.jar webhooks enable <id>";
  /** The Linktree event types (see the webhook formats in the README). */
  public static final Set<String> EVENTS = Set.of("link.created", "link.updated", "link.deleted", "profile.updated",
    "analytics.milestone");
  private static final Set<String> WITHHELD = Set.of("secret", "signing_secret", "token", "signingSecret");

  private final Vertx vertx;
  private final BiogateConfig config;
  private final PrintStream out;
  private final PrintStream err;

  public WebhooksCommand(Vertx vertx, BiogateConfig config, PrintStream out, PrintStream err) {
    this.vertx = vertx;
    this.config = config;
    this.out = out;
    this.err = err;
  }

  /** Runs {@code args} (the words after {@code webhooks}); returns the exit status. */
  public int run(List<String> args) {
    LinktreeOptions lt = config.linktree();
    if (lt.apiBase() == null || lt.token() == null) {
      err.println("biogate: webhooks needs LINKTREE_API_BASE and LINKTREE_API_TOKEN (or LINKTREE_API_TOKEN_FILE): it manages"
        + " the subscription of a real upstream (for a try-out, run `java -jar biogate.jar sandbox` and point"
        + " LINKTREE_API_BASE at it, with LINKTREE_API_TOKEN=sandbox-token)");
      return 2;
    }
    Future<JsonObject> call;
    try {
      call = request(args, client(lt));
    } catch (IllegalArgumentException e) {
      err.println("biogate: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
    try {
      return print(args.get(0), call.await());
    } catch (UpstreamException e) {
      if (e.status() == 404 && (args.get(0).equals("delete") || args.get(0).equals("enable"))) {
        // The client's 404 text speaks of profiles; here it is the subscription that is unknown.
        err.println("biogate: the upstream has no webhook subscription with id '" + printable(args.get(1))
          + "' (`webhooks list` shows them)");
      } else if (e.status() > 0) {
        err.println("biogate: the upstream answered " + e.status() + ": " + e.getMessage());
      } else {
        err.println("biogate: the upstream at " + lt.apiBase() + " (LINKTREE_API_BASE) failed: " + e.getMessage());
      }
      return 1;
    } catch (RuntimeException e) {
      err.println("biogate: the upstream call failed: " + e.getClass().getSimpleName());
      return 1;
    }
  }

  private LinktreeClient client(LinktreeOptions lt) {
    LinktreeClient client = new LinktreeClient(vertx, lt,
      new LocalBudget(lt.rateLimitPerMin(), lt.ratePeriodMs(), LaneShares.defaults()), new SimpleMeterRegistry());
    client.onCredentialsRefused(status -> { }); // the failed request's own message says it, in the command's words
    return client;
  }

  private Future<JsonObject> request(List<String> args, LinktreeClient client) {
    if (args.isEmpty()) {
      throw new IllegalArgumentException("webhooks needs a subcommand");
    }
    switch (args.get(0)) {
      case "list":
        expect(args, 1);
        return client.read("/webhooks", Lane.FOREGROUND);
      case "register":
        return client.write(HttpMethod.POST, "/webhooks", registration(args.subList(1, args.size())), null, Lane.FOREGROUND);
      case "delete":
        expect(args, 2);
        return client.write(HttpMethod.DELETE, "/webhooks/" + id(args.get(1)), null, null, Lane.FOREGROUND);
      case "enable":
        expect(args, 2);
        return client.write(HttpMethod.POST, "/webhooks/" + id(args.get(1)) + "/enable", null, null, Lane.FOREGROUND);
      default:
        throw new IllegalArgumentException("unknown webhooks subcommand '" + printable(args.get(0)) + "'");
    }
  }

  private JsonObject registration(List<String> opts) {
    String url = null;
    String events = null;
    for (int i = 0; i < opts.size(); i++) {
      String o = opts.get(i);
      if (i + 1 >= opts.size() || !(o.equals("--url") || o.equals("--events"))) {
        throw new IllegalArgumentException("register takes --url <url> and --events <type,type,...>");
      }
      if (o.equals("--url")) {
        url = opts.get(++i);
      } else {
        events = opts.get(++i);
      }
    }
    if (url == null || events == null) {
      throw new IllegalArgumentException("register needs both --url and --events");
    }
    URI u;
    try {
      u = new URI(url);
    } catch (Exception e) {
      throw new IllegalArgumentException("--url is not a valid URL");
    }
    if (!"https".equals(u.getScheme()) && !"http".equals(u.getScheme()) || u.getHost() == null || u.getRawUserInfo() != null) {
      throw new IllegalArgumentException("--url must be an absolute http(s) URL without credentials");
    }
    if ("http".equals(u.getScheme()) && !BiogateConfig.loopback(url)) {
      // Linktree delivers to HTTPS endpoints: a plain http URL is registered (a test upstream may take it) but said.
      err.println("biogate: note: --url is plain http; Linktree delivers webhooks to https URLs only, and signed bodies"
        + " would cross the network in clear");
    }
    JsonArray list = new JsonArray();
    for (String e : events.split(",")) {
      String t = e.trim();
      if (!EVENTS.contains(t)) {
        throw new IllegalArgumentException("unknown event type '" + printable(t) + "' (known: " + String.join(", ", new java.util.TreeSet<>(EVENTS)) + ")");
      }
      if (!list.contains(t)) {
        list.add(t);
      }
    }
    return new JsonObject().put("url", url).put("events", list);
  }

  private static void expect(List<String> args, int n) {
    if (args.size() != n) {
      throw new IllegalArgumentException(args.get(0) + (n == 1 ? " takes no arguments" : " takes one webhook id"));
    }
  }

  private static String id(String id) {
    if (id.isEmpty() || id.length() > 100 || !id.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '_' || c == '-' || c == '.')) {
      throw new IllegalArgumentException("a webhook id is 1-100 of [A-Za-z0-9._-]");
    }
    return id;
  }

  /**
   * Prints {@code answer}; 1 when it is not what the command expects (a list without its {@code data} list, a
   * registration without the subscription's id): {@code {}} was printed as "registered: {}" with exit 0.
   */
  private int print(String command, JsonObject answer) {
    if ("list".equals(command)) {
      Object data = answer.getValue("data");
      if (!(data instanceof JsonArray) || ((JsonArray) data).stream().anyMatch(w -> !(w instanceof JsonObject))) {
        err.println("biogate: the upstream's answer is not a list of subscriptions (no \"data\" list of objects)");
        return 1;
      }
      if (((JsonArray) data).isEmpty()) {
        out.println("no webhook subscriptions");
      }
      ((JsonArray) data).forEach(w -> out.println(line((JsonObject) w)));
      return 0;
    }
    if ("register".equals(command) && !(answer.getValue("id") instanceof String)) {
      err.println("biogate: the upstream's answer carries no subscription id, so the registration is not confirmed"
        + " (`webhooks list` shows what the upstream holds)");
      return 1;
    }
    JsonObject shown = answer.copy();
    List<String> withheld = new ArrayList<>();
    for (String f : WITHHELD) {
      if (shown.remove(f) != null) {
        withheld.add(f);
      }
    }
    String what = shown.containsKey("url") ? line(shown)
      : "delete".equals(command) && shown.getValue("id") instanceof String ? shown.getString("id") : shown.encode();
    out.println(("register".equals(command) ? "registered" : command + "d") + ": " + what);
    if (!withheld.isEmpty()) {
      out.println("(the upstream also returned " + String.join(", ", withheld) + "; not printed: read it in the provider's"
        + " dashboard and set LINKTREE_WEBHOOK_SECRET)");
    }
    return 0;
  }

  private static String line(JsonObject w) {
    return w.getString("id", "?") + "  " + (Boolean.FALSE.equals(w.getBoolean("enabled")) ? "disabled" : "enabled ") + "  "
      + w.getString("url", "?") + "  " + String.join(",", w.getJsonArray("events", new JsonArray()).stream().map(String::valueOf).toList());
  }

  private static String printable(String s) {
    String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
    return t.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
