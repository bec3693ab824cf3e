package dev.biogate.ops;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The operator console: {@code /admin/ui} (plain HTML, one script, one stylesheet, all in the jar under
 * {@code console/}, no build step). The files hold no data and no secret, so they are served without the admin token;
 * the page asks for the token, keeps it in the tab's {@code sessionStorage} only, and sends it as a bearer token to
 * the admin JSON API ({@code /admin/overview}, {@code /admin/dead-letters}, {@code /admin/destinations/dead-letters},
 * {@code /admin/deliveries/{id}}), which {@link AdminAuth} guards as always. A strict Content-Security-Policy allows
 * nothing but these files and same-origin calls.
 */
public final class ConsolePage {

  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final Buffer html = load("index.html");
  private final Buffer js = load("console.js");
  private final Buffer css = load("console.css");

  /** Mount before {@link AdminAuth}: these three files are public, everything else under {@code /admin} is not. */
  public void mount(Router router) {
    router.get("/admin/ui").handler(ctx -> send(ctx, html, "text/html; charset=utf-8"));
    router.get("/admin/ui/console.js").handler(ctx -> send(ctx, js, "text/javascript; charset=utf-8"));
    router.get("/admin/ui/console.css").handler(ctx -> send(ctx, css, "text/css; charset=utf-8"));
  }

  private static void send(RoutingContext ctx, Buffer body, String type) {
    ctx.response().putHeader("Content-Type", type).putHeader("Cache-Control", "no-store")
      .putHeader("Content-Security-Policy", CSP).putHeader("X-Content-Type-Options", "nosniff")
      .putHeader("Referrer-Policy", "no-referrer").putHeader("X-Frame-Options", "DENY").end(body);
  }

  private static Buffer load(String name) {
    try (InputStream in = ConsolePage.class.getClassLoader().getResourceAsStream("console/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing console/" + name + " in the jar");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
