package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real headless Chromium driven over the Chrome DevTools Protocol: the browser runs with
 * {@code --headless --remote-debugging-port=0}, writes the port it chose to {@code DevToolsActivePort} in its
 * profile directory, and the test talks to its page target over a Vert.x WebSocket. {@link #binary()} finds
 * {@code /usr/bin/chromium} (Debian's package) or another Chromium on the PATH.
 */
public final class Chromium implements AutoCloseable {

  private final Vertx vertx;
  private final Process process;
  private final Path profile;
  private final WebSocketClient client;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, Promise<JsonObject>> pending = new ConcurrentHashMap<>();
  private WebSocket socket;

  private Chromium(Vertx vertx, Process process, Path profile) {
    this.vertx = vertx;
    this.process = process;
    this.profile = profile;
    this.client = vertx.createWebSocketClient();
  }

  /** The Chromium executable, or {@code null} when the machine has none. */
  public static Path binary() {
    for (String candidate : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
      if (Files.isExecutable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      for (String name : new String[] {"chromium", "chromium-browser", "google-chrome"}) {
        Path p = Path.of(dir, name);
        if (!dir.isEmpty() && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /** Starts the browser on a blank page and connects to that page. */
  public static Future<Chromium> launch(Vertx vertx, Path binary) {
    return vertx.executeBlocking(() -> {
      Path profile = Files.createTempDirectory("biogate-chromium");
      Process p = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
        "--window-size=1280,1500", "--user-data-dir=" + profile, "about:blank")
        .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
      return new Chromium(vertx, p, profile);
    }).compose(c -> Eventually.until(vertx, () -> Future.succeededFuture(c.port() > 0), 30_000, "chromium wrote DevToolsActivePort")
      .compose(v -> c.connect()).map(c));
  }

  /** The DevTools port from the first line of {@code DevToolsActivePort}, or -1 while it is not (fully) written. */
  private int port() {
    try {
      java.util.List<String> lines = Files.readAllLines(profile.resolve("DevToolsActivePort"));
      return lines.size() < 2 ? -1 : Integer.parseInt(lines.get(0).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private Future<Void> connect() {
    int port = port();
    WebClient http = WebClient.create(vertx);
    return http.get(port, "127.0.0.1", "/json/list").send().map(HttpResponse::bodyAsJsonArray).compose(targets -> {
      http.close();
      String ws = targets.stream().map(JsonObject.class::cast).filter(t -> "page".equals(t.getString("type")))
        .findFirst().orElseThrow().getString("webSocketDebuggerUrl");
      URI uri = URI.create(ws);
      return client.connect(new WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort()).setURI(uri.getPath())
        .setAllowOriginHeader(false));
    }).map(s -> {
      socket = s;
      s.frameHandler(f -> { });
      s.textMessageHandler(this::onMessage);
      return null;
    });
  }

  private void onMessage(String text) {
    JsonObject m = new JsonObject(text);
    Integer id = m.getInteger("id");
    Promise<JsonObject> p = id == null ? null : pending.remove(id);
    if (p != null) {
      if (m.containsKey("error")) {
        p.fail(m.getJsonObject("error").encode());
      } else {
        p.complete(m.getJsonObject("result", new JsonObject()));
      }
    }
  }

  /** Sends one DevTools command and completes with its result. */
  public Future<JsonObject> send(String method, JsonObject params) {
    int id = ids.incrementAndGet();
    Promise<JsonObject> p = Promise.promise();
    pending.put(id, p);
    socket.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
    return p.future().timeout(60, TimeUnit.SECONDS);
  }

  public Future<Void> navigate(String url) {
    return send("Page.navigate", new JsonObject().put("url", url)).mapEmpty();
  }

  /** Evaluates a JavaScript expression in the page; its value (JSON-serialisable), or a failure on an exception. */
  public Future<Object> eval(String expression) {
    return send("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true)
      .put("awaitPromise", true)).compose(r -> r.containsKey("exceptionDetails")
        ? Future.failedFuture(new AssertionError("page script failed: " + r.getJsonObject("exceptionDetails").encode()))
        : Future.succeededFuture(r.getJsonObject("result").getValue("value")));
  }

  /** Waits until {@code expression} is true in the page. */
  public Future<Void> until(String expression, long timeoutMs) {
    return Eventually.until(vertx, () -> eval("!!(" + expression + ")").map(Boolean.TRUE::equals), timeoutMs,
      "page condition " + expression);
  }

  /**
   * Saves what the page shows now as a PNG at {@code target}, taken with {@code chromium --headless --screenshot}: the
   * rendered DOM (scripts removed, the stylesheet {@code css} inlined) is written to a file a second, short-lived
   * browser opens.
   */
  public Future<Void> screenshot(Path binary, String css, Path target) {
    return eval("(function(){var d=document.documentElement.cloneNode(true);"
        + "d.querySelectorAll('script,link').forEach(function(e){e.remove();});return d.outerHTML;})()")
      .compose(html -> vertx.executeBlocking(() -> {
        Path page = profile.resolve("snapshot.html");
        Files.writeString(page, "<!doctype html>" + html.toString().replace("</head>", "<style>" + css + "</style></head>"));
        Process p = new ProcessBuilder(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
          "--window-size=1280,1250", "--user-data-dir=" + profile.resolve("shot"), "--screenshot=" + target.toAbsolutePath(),
          page.toUri().toString()).redirectErrorStream(true).redirectOutput(profile.resolve("shot.log").toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException("chromium --screenshot did not finish");
        }
        return null;
      }));
  }

  @Override
  public void close() {
    if (socket != null) {
      socket.close();
    }
    client.close();
    // Its renderer, GPU and network processes write to the profile too, and may outlive the browser process: stop
    // them all before deleting the profile (a file vanishing under the walk used to fail the test's clean-up, and
    // with it the closing of the gateway the test had started).
    List<ProcessHandle> all = new java.util.ArrayList<>(process.descendants().toList());
    all.add(process.toHandle());
    all.forEach(ProcessHandle::destroy);
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        p.destroyForcibly();
      }
    }
    try (Stream<Path> files = Files.walk(profile)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | java.io.UncheckedIOException e) {
      // best effort: a temp directory left behind
    }
  }

}
