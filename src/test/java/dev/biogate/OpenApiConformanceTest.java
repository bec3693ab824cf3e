package dev.biogate;

import dev.biogate.support.HarnessTest;
import dev.biogate.webhook.Deliveries;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code docs/openapi.yaml} against the real routers of both listeners: every route the client listener serves and
 * every route the management listener serves ({@code /metrics}, {@code /admin/*}, {@code /health*}) is described
 * (same path, same method), nothing described is missing (each described operation is called on the listener that
 * serves it and must not get the router's "no such resource" 404 or a 405, and the status it answers must be one the
 * operation documents), and the file is OpenAPI 3.1.
 */
class OpenApiConformanceTest extends HarnessTest {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");
  /** Served by the verticle before the router (the hot path), so not in the router's table. */
  private static final Set<String> FAST_PATH = Set.of("GET /v1/profiles/{username}");


  /**
   * Each documented operation ({@code METHOD /path}) with the statuses it documents, each mapped to the JSON schema of
   * its answer ({@code $ref}s resolved; an empty map when none is given).
   */
  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Map<String, Object>>> documented() throws IOException {
    Map<String, Object> doc = new Yaml().load(Files.readString(Path.of("docs", "openapi.yaml")));
    assertEquals("3.1.0", String.valueOf(doc.get("openapi")));
    Map<String, Map<String, Map<String, Object>>> ops = new TreeMap<>();
    ((Map<String, Map<String, Object>>) doc.get("paths")).forEach((path, item) -> item.forEach((m, operation) -> {
      if (METHODS.contains(m)) {
        Map<Object, Object> responses = (Map<Object, Object>) ((Map<String, Object>) operation).get("responses");
        Map<String, Map<String, Object>> statuses = new TreeMap<>();
        responses.forEach((status, response) -> {
          Map<String, Object> r = resolve(doc, (Map<String, Object>) response);
          Map<String, Object> content = (Map<String, Object>) r.get("content");
          Map<String, Object> json = content == null ? null : (Map<String, Object>) content.get("application/json");
          Object schema = json == null ? null : json.get("schema");
          statuses.put(String.valueOf(status), schema == null ? Map.of() : resolve(doc, (Map<String, Object>) schema));
        });
        ops.put(m.toUpperCase() + " " + path, statuses);
      }
    }));
    return ops;
  }

  /** {@code node}, or what its {@code $ref} ({@code #/a/b/c}) names. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> resolve(Map<String, Object> doc, Map<String, Object> node) {
    Object ref = node.get("$ref");
    if (!(ref instanceof String)) {
      return node;
    }
    Object target = doc;
    for (String part : ((String) ref).substring(2).split("/")) {
      target = ((Map<String, Object>) target).get(part);
    }
    return resolve(doc, (Map<String, Object>) target);
  }

  @Test
  void everyRouteIsDocumentedAndEveryDocumentedRouteAnswers(VertxTestContext ctx) throws IOException {
    Map<String, Map<String, Map<String, Object>>> answers = documented();
    Set<String> documented = answers.keySet();
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
        calls.add(h.send(HttpMethod.valueOf(method), g, path, Deliveries.ADMIN_TOKEN).map(r -> verdict(op, answers.get(op), r)));
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
  private static String verdict(String op, Map<String, Map<String, Object>> answers, HttpResponse<Buffer> r) {
    if (r.statusCode() == 405) {
      return op + ": 405";
    }
    if (r.statusCode() == 404 && r.bodyAsString() != null && r.bodyAsString().contains("no such resource")) {
      return op + ": the router has no such route";
    }
    if (r.statusCode() >= 500 && r.statusCode() != 503) {
      return op + ": " + r.statusCode();
    }
    Map<String, Object> schema = answers.get(Integer.toString(r.statusCode()));
    if (schema == null) {
      return op + ": answered " + r.statusCode() + ", which it does not document " + answers.keySet() + ": " + r.bodyAsString();
    }
    return shape(op + " " + r.statusCode(), schema, r);
  }

  /**
   * {@code null} when a JSON answer fits the top level of its documented object schema: each documented property it
   * holds has the documented type and, where one is given, a documented value ({@code enum}/{@code const}).
   */
  @SuppressWarnings("unchecked")
  private static String shape(String what, Map<String, Object> schema, HttpResponse<Buffer> r) {
    Object properties = schema.get("properties");
    String type = r.getHeader("Content-Type");
    if (!(properties instanceof Map) || type == null || !type.startsWith("application/json") || r.body() == null) {
      return null;
    }
    Object body = r.body().toJsonValue();
    if (!(body instanceof JsonObject)) {
      return what + ": documented as an object, answered " + r.bodyAsString();
    }
    for (Map.Entry<String, Object> p : ((Map<String, Object>) properties).entrySet()) {
      Object value = ((JsonObject) body).getValue(p.getKey());
      Map<String, Object> property = (Map<String, Object>) p.getValue();
      if (value == null) {
        continue;
      }
      Object expected = property.get("type");
      if (expected instanceof String && !fits((String) expected, value)) {
        return what + ": '" + p.getKey() + "' is documented as " + expected + ", answered " + r.bodyAsString();
      }
      Object values = property.containsKey("const") ? List.of(property.get("const")) : property.get("enum");
      if (values instanceof List && !((List<Object>) values).contains(value)) {
        return what + ": '" + p.getKey() + "' is documented as one of " + values + ", answered " + r.bodyAsString();
      }
    }
    return null;
  }

  private static boolean fits(String type, Object value) {
    switch (type) {
      case "object": return value instanceof JsonObject;
      case "array": return value instanceof JsonArray;
      case "string": return value instanceof String;
      case "integer": return value instanceof Integer || value instanceof Long;
      case "number": return value instanceof Number;
      case "boolean": return value instanceof Boolean;
      default: return true;
    }
  }
}
