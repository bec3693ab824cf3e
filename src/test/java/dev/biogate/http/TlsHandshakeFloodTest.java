package dev.biogate.http;

import dev.biogate.support.Eventually;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections still in their TLS handshake count against the connection ceilings. Found with raw sockets: Vert.x hands
 * a TLS connection to the gateway only once its handshake is done, so connections that never sent a ClientHello were
 * not counted: 6,000 from one address held descriptors past the per-client ceiling of 1,024 (for the 10-s handshake
 * timeout each), and three addresses opening 7,000 each exhausted the process's descriptors. A connection is now
 * counted when it is accepted; one over a ceiling is closed at once (no answer can be written before the handshake),
 * and at the listener's ceiling a handshake unfinished for over a second makes room for a newcomer.
 */
class TlsHandshakeFloodTest extends HarnessTest {

  private static final SelfSignedCertificate CERT = SelfSignedCertificate.create("localhost");
  private final List<NetSocket> held = new ArrayList<>();
  /** Kept until the test ends: Vert.x closes a client it finds unreachable after a collection, connections included. */
  private final Map<String, NetClient> clients = new HashMap<>();
  private final List<SSLSocket> served = new ArrayList<>();

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject().put("http", new JsonObject().put("maxConnections", 12).put("maxConnectionsPerClient", 8)
        .put("management", new JsonObject().put("port", 0).put("maxConnections", 8)) // replaces the harness's, free port included
        .put("inbound", new JsonObject().put("exemptLoopback", false)))
      // Held connections must outlast a slow test run: the 10-s default closed them before a loaded CI host had counted them.
      .put("tls", tls().put("handshakeTimeoutMs", 120_000))
      .put("webhooks", new JsonObject().put("linktree", new JsonObject().put("secrets", "whsec_tls_flood_test")));
  }

  @AfterEach
  void closeHeld() {
    held.forEach(NetSocket::close);
    clients.values().forEach(NetClient::close);
    served.forEach(s -> {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing a socket the server closed
      }
    });
  }

  private static JsonObject tls() {
    return new JsonObject().put("certFile", CERT.certificatePath()).put("keyFile", CERT.privateKeyPath());
  }

  @AfterAll
  static void deleteCertificate() {
    CERT.delete();
  }

  /**
   * Plain HTTP sent to a TLS listener gets a plain-text {@code 400} saying so, as nginx answers, on both listeners: the
   * connection used to be closed without a word (an attack pass), which a client cannot tell from a crash.
   */
  @Test
  void plainHttpToATlsListenerGetsA400SayingSo(Vertx vertx, VertxTestContext ctx) {
    vertx.executeBlocking(() -> List.of(plain(g.port()), plain(g.managementPort())))
      .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
        for (String answer : answers) {
          assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
          assertTrue(answer.contains("Connection: close"), answer);
          assertTrue(answer.contains("\"error\":\"tls_required\""), answer);
        }
        ctx.completeNow();
      })));
  }

  private static String plain(int port) throws IOException {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
    }
  }

  @Test
  void connectionsInTheirHandshakeCountAgainstTheClientsCeiling(Vertx vertx, VertxTestContext ctx) {
    holdSilent(vertx, g.port(), 8, "127.0.0.1")
      .compose(v -> openConnections(vertx, 8))
      .compose(v -> vertx.executeBlocking(() -> get("127.0.0.1", g.port(), "/health/live")))
      .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
        assertFalse(seen.startsWith("HTTP/1.1 200"), "a ninth connection from the address is not served: " + seen);
        ctx.completeNow();
      })));
  }

  @Test
  void atTheListenersCeilingAHandshakeUnfinishedForOverASecondMakesRoomForANewClient(Vertx vertx, VertxTestContext ctx) {
    holdSilent(vertx, g.port(), 8, "127.0.0.1")
      .compose(v -> holdSilent(vertx, g.port(), 4, "127.0.0.2"))
      .compose(v -> openConnections(vertx, 12))
      .compose(v -> Eventually.until(vertx, () -> vertx.executeBlocking(() -> get("127.0.0.3", g.port(), "/health/live"))
        .map(s -> s.startsWith("HTTP/1.1 200")), 10_000, "a newcomer served at the listener's ceiling", 200))
      // A scrape is shared for a second: the one before the newcomer may still be served.
      .compose(v -> Eventually.until(vertx, () -> vertx.executeBlocking(() -> get("127.0.0.1", g.managementPort(), "/metrics"))
        .map(m -> ConnectionFloodTest.metric(m, "biogate_http_connections_evicted_total") >= 1), 10_000, "the eviction counted", 200))
      .compose(v -> holdSilent(vertx, g.managementPort(), 9, "127.0.0.1"))
      .compose(v -> Eventually.until(vertx, () -> vertx.executeBlocking(() -> get("127.0.0.1", g.managementPort(), "/health/live"))
        .map(s -> s.startsWith("HTTP/1.1 200")), 10_000, "a probe served at the management listener's ceiling", 200))
      .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aServedConnectionCountsOnceAndClosingItGivesItsPlaceBack(Vertx vertx, VertxTestContext ctx) {
    vertx.executeBlocking(() -> {
      List<String> first = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        SSLSocket s = connect("127.0.0.1", g.port());
        served.add(s);
        first.add(exchange(s, "/health/live", true));
      }
      String ninth = get("127.0.0.1", g.port(), "/health/live");
      for (SSLSocket s : served) {
        s.close();
      }
      return List.of(first.toString(), ninth);
    }).compose(seen -> openConnections(vertx, 0).map(seen))
      .compose(seen -> vertx.executeBlocking(() -> get("127.0.0.1", g.port(), "/health/live")).map(after -> List.of(seen.get(0), seen.get(1), after)))
      .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
        assertEquals(8, seen.get(0).split("HTTP/1.1 200", -1).length - 1, "eight connections served: " + seen.get(0));
        assertFalse(seen.get(1).startsWith("HTTP/1.1 200"), "the ninth refused: " + seen.get(1));
        assertTrue(seen.get(2).startsWith("HTTP/1.1 200"), "served once the eight closed: " + seen.get(2));
        ctx.completeNow();
      })));
  }

  @Test
  void aHandshakeNotFinishedInTheConfiguredTimeIsClosed(Vertx vertx, VertxTestContext ctx) {
    // A connection to the gateway that allows 120 s, opened first, is still open when the one allowing 0.3 s closes.
    JsonObject quick = gatewayOverrides().put("tls", tls().put("handshakeTimeoutMs", 300));
    java.util.concurrent.atomic.AtomicBoolean slowClosed = new java.util.concurrent.atomic.AtomicBoolean();
    client(vertx, "127.0.0.1").connect(g.port(), "127.0.0.1")
      .compose(slow -> {
        held.add(slow);
        slow.closeHandler(v -> slowClosed.set(true));
        return h.gateway(quick);
      })
      .compose(quickGateway -> client(vertx, "127.0.0.1").connect(quickGateway.port(), "127.0.0.1"))
      .compose(so -> {
        held.add(so);
        io.vertx.core.Promise<Void> closed = io.vertx.core.Promise.promise();
        so.closeHandler(closed::tryComplete);
        return closed.future();
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertFalse(slowClosed.get(), "the connection allowed 120 s is still open");
        ctx.completeNow();
      })));
  }

  private NetClient client(Vertx vertx, String localAddress) {
    return clients.computeIfAbsent(localAddress, a -> vertx.createNetClient(new NetClientOptions().setLocalAddress(a)));
  }

  /** Opens {@code n} TCP connections from {@code localAddress} that never send a byte: a handshake never begun. */
  private Future<Void> holdSilent(Vertx vertx, int port, int n, String localAddress) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> client(vertx, localAddress).connect(port, "127.0.0.1").map(so -> {
        held.add(so);
        return null;
      }));
    }
    return chain;
  }

  /** Waits until the client listener counts exactly {@code n} connections open. */
  private Future<Void> openConnections(Vertx vertx, int n) {
    return Eventually.until(vertx, () -> vertx.executeBlocking(() -> get("127.0.0.1", g.managementPort(), "/metrics"))
      .map(m -> ConnectionFloodTest.metric(m, "biogate_http_connections_open") == n), 10_000, n + " connections counted open", 100);
  }


  /** A GET of {@code path} on a TLS connection from {@code localAddress}: the whole answer, or what ended it. */
  private static String get(String localAddress, int port, String path) {
    try (SSLSocket s = connect(localAddress, port)) {
      return exchange(s, path, false);
    } catch (IOException e) {
      return "refused: " + e;
    }
  }

  private static SSLSocket connect(String localAddress, int port) throws IOException {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new X509TrustManager() {
        public void checkClientTrusted(X509Certificate[] chain, String type) { }
        public void checkServerTrusted(X509Certificate[] chain, String type) { }
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      }}, null);
      SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getByName("127.0.0.1"), port,
        InetAddress.getByName(localAddress), 0);
      s.setSoTimeout(10_000);
      s.startHandshake();
      return s;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Sends a GET of {@code path} and reads the answer: its status line when {@code keepAlive} (the connection stays
   * open), else everything until the server closes.
   */
  private static String exchange(SSLSocket s, String path, boolean keepAlive) throws IOException {
    s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n")
      .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    StringBuilder text = new StringBuilder();
    for (int b; (b = in.read()) != -1; ) {
      text.append((char) b);
      if (keepAlive && text.indexOf("\r\n") >= 0) {
        return text.toString();
      }
    }
    return text.length() == 0 ? "closed" : text.toString();
  }
}
