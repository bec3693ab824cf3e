/*
 * The raw Vert.x baseline for bench/run.sh: the smallest Vert.x 5 server that answers every request with the same
 * bytes and the same headers biogate sends for a cached profile read, on the same transport (native epoll when
 * available) with the same number of event loops (two HTTP verticles per core). No routing, no cache lookup, no
 * metrics, no limiter: what is left is the cost of Vert.x and Netty themselves. Same HttpServerOptions as biogate.
 *
 * Run from the repository root (Java 17+ single-file source launch, Vert.x from the biogate jar):
 *   java -cp target/biogate.jar bench/rawvertx/RawServer.java PORT BODY_FILE HEADERS_FILE [EVENT_LOOPS]
 * HEADERS_FILE holds "Name: value" lines (a curl -D dump of biogate's answer: the status line, blank lines and
 * Content-Length are skipped; Content-Length is set from the body). EVENT_LOOPS defaults to twice the number of cores
 * (biogate's default).
 * Listens on 127.0.0.1 only.
 */

import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public final class RawServer {

  static {
    // The same Vert.x switches biogate sets in its Main, so the baseline is the framework tuned as biogate tunes it.
    System.setProperty("vertx.disableWebsockets", "true");
    System.setProperty("vertx.disableContextTimings", "true");
    System.setProperty("vertx.disableHttpHeadersValidation", "true");
    System.setProperty("vertx.cacheImmutableHttpResponseHeaders", "true");
    System.setProperty("vertx.internCommonHttpRequestHeadersToLowerCase", "true");
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: RawServer PORT BODY_FILE HEADERS_FILE [EVENT_LOOPS]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    byte[] body = Files.readAllBytes(Path.of(args[1]));
    List<AsciiString[]> headers = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[2]), StandardCharsets.ISO_8859_1)) {
      line = line.strip();
      int colon = line.indexOf(':');
      if (line.isEmpty() || line.startsWith("HTTP/") || colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).strip();
      if (name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("connection")
        || name.equalsIgnoreCase("transfer-encoding")) {
        continue;
      }
      headers.add(new AsciiString[] {AsciiString.cached(name), AsciiString.cached(line.substring(colon + 1).strip())});
    }
    int loops = args.length > 3 ? Integer.parseInt(args[3]) : 2 * Runtime.getRuntime().availableProcessors();

    // The body in direct memory, never released, written as is (what biogate does for its cached copies).
    ByteBuffer direct = ByteBuffer.allocateDirect(body.length);
    direct.put(body).flip();
    Buffer payload = BufferInternal.buffer(Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct)));
    AsciiString[][] hs = headers.toArray(new AsciiString[0][]);

    Vertx vertx = Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
    vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        return vertx.createHttpServer(new HttpServerOptions()
            .setHost("127.0.0.1")
            .setPort(port)
            .setTcpNoDelay(true)
            .setTcpFastOpen(true)
            .setCompressionSupported(false)
            .setHttp2ClearTextEnabled(false)
            .setMaxInitialLineLength(4096)
            .setMaxHeaderSize(16384)
            .setIdleTimeout(120))
          .requestHandler(req -> {
            MultiMap h = req.response().headers();
            for (AsciiString[] kv : hs) {
              h.add(kv[0], kv[1]);
            }
            req.response().end(payload);
          })
          .listen();
      }
    }, new DeploymentOptions().setInstances(loops)).await();
    System.out.println("raw vert.x listening on http://127.0.0.1:" + port + " (" + loops + " event loops, transport "
      + (vertx.isNativeTransportEnabled() ? "native epoll" : "NIO") + ", " + body.length + " bytes, " + hs.length + " headers)");
  }
}
