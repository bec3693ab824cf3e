package dev.biogate;

import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code docs/openapi.yaml} against the real routers of both listeners: every route the client listener serves and
 * every route the management listener serves ({@code /metrics}, {@code /admin/*}, {@code /health*}) is described
 * (same path, same method), nothing described is missing (each described operation is called on the listener that
 * serves it and must not get the router's "no such resource" 404 or a 405), and the file is OpenAPI 3.1.
 */
class OpenApiConformanceTest extends HarnessTest {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");
  /** Served by the verticle before the router (the hot path), so not in the router's table. */
  private static final Set<String> FAST_PATH = Set.of("GET /v1/profiles/{username}");


  @SuppressWarnings("unchecked")
  static Set<String> documented() throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(Path.of("docs", "openapi.yaml")));
    assertEquals("3.1.0", String.valueOf(doc.get("openapi")));
    Set<String> ops = new TreeSet<>();
    ((Map<String, Map<String, Object>>) doc.get("paths")).forEach((path, item) -> item.keySet().stream()
      .filter(METHODS::contains).forEach(m -> ops.add(m.toUpperCase() + " " + path)));
    return ops;
  }

  @Test
  void everyRouteIsDocumentedAndEveryDocumentedRouteAnswers(VertxTestContext ctx) throws IOException {
    Set<String> documented = documented();
    h.gateway(Deliveries.config()).compose(g -> {
      Set<String> mounted = new TreeSet<>(FAST_PATH);
      mounted.addAll(served(g.router().getRoutes(), false));
      Set<String> management = served(g.managementRouter().getRoutes(), true);
      assertTrue(management.contains("GET /metrics") && management.contains("GET /admin/ui"),
        "the management router serves the operator routes: " + management);
      mounted.addAll(management);
      // Every GET answers HEAD too (documented once, in the description): an implied HEAD needs no entry of its own.
      mounted.removeIf(op -> op.startsWith("HEAD ") && !documented.contains(op) && mounted.contains("GET " + op.substring(5)));
      Set<String> undocumented = new TreeSet<>(mounted);
      undocumented.removeAll(documented);
      assertTrue(undocumented.isEmpty(), "routes missing from docs/openapi.yaml: " + undocumented);
      Set<String> unmounted = new TreeSet<>(documented);
      unmounted.removeAll(mounted);
      assertTrue(unmounted.isEmpty(), "documented but not mounted: " + unmounted);
      List<Future<String>> calls = new ArrayList<>();
      for (String op : documented) {
        String method = op.substring(0, op.indexOf(' '));
        String path = op.substring(op.indexOf(' ') + 1).replace("{username}", "demo").replace("{linkId}", "lnk_demo_01")
          .replace("{id}", "1-0").replace("{deliveryId}", "d-unknown").replace("{keyId}", "k-unknown");
        calls.add(h.send(HttpMethod.valueOf(method), g, path, Deliveries.ADMIN_TOKEN).map(r -> verdict(op, r)));
      }
      return Future.all(calls).map(all -> {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
          String v = all.resultAt(i);
          if (v != null) {
            problems.add(v);
          }
        }
        return problems;
      });
    }).onComplete(ctx.succeeding(problems -> ctx.verify(() -> {
      assertTrue(problems.isEmpty(), String.join("\n", problems));
      ctx.completeNow();
    })));
  }

  /** The endpoints of {@code routes} that the client ({@code management} false) or management listener serves. */
  private static Set<String> served(List<Route> routes, boolean management) {
    Set<String> ops = new TreeSet<>();
    for (Route route : routes) {
      String path = route.getPath();
      if (path == null || path.endsWith("*") || route.methods() == null || route.methods().isEmpty()) {
        continue; // guards and the fallback 404, not endpoints
      }
      boolean health = path.equals("/health") || path.startsWith("/health/");
      boolean operator = path.equals("/metrics") || path.startsWith("/admin/");
      if (!health && operator != management) {
        continue; // answered 404 on this listener
      }
      String openApiPath = path.replaceAll(":([A-Za-z]+)", "{$1}");
      for (HttpMethod m : route.methods()) {
        ops.add(m.name() + " " + openApiPath);
      }
    }
    return ops;
  }

  /** {@code null} when the operation exists; else what is wrong. */
  private static String verdict(String op, HttpResponse<Buffer> r) {
    if (r.statusCode() == 405) {
      return op + ": 405";
    }
    if (r.statusCode() == 404 && r.bodyAsString() != null && r.bodyAsString().contains("no such resource")) {
      return op + ": the router has no such route";
    }
    if (r.statusCode() >= 500 && r.statusCode() != 503) {
      return op + ": " + r.statusCode();
    }
    return null;
  }
}
