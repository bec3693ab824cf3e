package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a raw TCP socket, for what a well-behaved client cannot send: smuggling primitives, control bytes,
 * bytes trickled over time. {@link #exchange} writes the bytes and collects everything the server sends until it closes
 * the connection (failing when it does not close within {@code closeWithinMs}).
 */
public final class RawHttp {

  /**
   * Linktree signature headers of the right shape that no secret signed. A delivery carrying them passes the checks of
   * its head, is read whole, and is then refused {@code 403 invalid_signature}: for tests about what happens to a body.
   */
  public static final String FORGED_LINKTREE_SIGNATURE = "x-linktree-signature: " + "0".repeat(64)
    + "\r\nx-linktree-timestamp: 1700000000\r\nx-linktree-delivery-id: forged-1\r\n";

  private final Vertx vertx;
  private final NetClient net;

  public RawHttp(Vertx vertx) {
    this.vertx = vertx;
    this.net = vertx.createNetClient();
  }

  /** Writes {@code request} and returns every response the server sent before it closed the connection. */
  public Future<List<Response>> exchange(int port, String request, long closeWithinMs) {
    return exchange(port, Buffer.buffer(request.getBytes(StandardCharsets.ISO_8859_1)), closeWithinMs);
  }

  public Future<List<Response>> exchange(int port, Buffer request, long closeWithinMs) {
    return connect(port).compose(so -> {
      so.write(request);
      return untilClosed(so, closeWithinMs);
    });
  }

  public Future<NetSocket> connect(int port) {
    return net.connect(port, "127.0.0.1");
  }

  /** Everything the server sends on {@code so} until it closes it; fails if it is still open after {@code ms}. */
  public Future<List<Response>> untilClosed(NetSocket so, long ms) {
    Promise<List<Response>> done = Promise.promise();
    Buffer in = Buffer.buffer();
    so.handler(in::appendBuffer);
    long timer = vertx.setTimer(ms, t -> {
      so.close();
      done.tryFail(new AssertionError("connection still open after " + ms + " ms; received: " + in.toString(StandardCharsets.ISO_8859_1)));
    });
    so.closeHandler(v -> {
      vertx.cancelTimer(timer);
      done.tryComplete(parse(in.toString(StandardCharsets.ISO_8859_1)));
    });
    return done.future();
  }

  public Future<Void> close() {
    return net.close();
  }

  /** Splits a byte stream into responses (Content-Length framed; the gateway never chunks an error). */
  public static List<Response> parse(String text) {
    List<Response> out = new ArrayList<>();
    int at = 0;
    while (at < text.length()) {
      int split = text.indexOf("\r\n\r\n", at);
      if (split < 0) {
        out.add(new Response(-1, Map.of(), text.substring(at), ""));
        break;
      }
      String[] lines = text.substring(at, split).split("\r\n");
      int status = lines[0].length() >= 12 ? Integer.parseInt(lines[0].substring(9, 12)) : -1;
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
      }
      int len = headers.containsKey("content-length") ? Integer.parseInt(headers.get("content-length")) : 0;
      int bodyEnd = Math.min(text.length(), split + 4 + len);
      out.add(new Response(status, headers, text.substring(split + 4, bodyEnd), lines[0]));
      at = bodyEnd;
    }
    return out;
  }

  /** One response read off the wire; header names lower-cased. */
  public record Response(int status, Map<String, String> headers, String body, String statusLine) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }
}
