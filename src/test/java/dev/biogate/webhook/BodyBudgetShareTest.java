package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The webhook body budget is taken by bytes that have arrived, and one client holds at most its share of it. Found with
 * raw sockets: one address opened 128 connections, each declaring a 256 KiB body it never sent, and reconnected after
 * each body deadline; every signed delivery from every provider was answered {@code 503 ingest_busy} for as long as it
 * went on. A share per client followed; a later attack spread the same stalls over 16 addresses (5 each) and did it
 * again, with no secret: a declared length reserved its whole size from the head on. Now only bytes received count.
 * Here the budget is 1 MiB, a client's share one largest body (256 KiB).
 */
class BodyBudgetShareTest extends HarnessTest {

  private static final int DECLARED = 256 * 1024;

  @Override
  protected JsonObject gatewayOverrides() {
    return new JsonObject()
      .put("http", new JsonObject().put("inbound", new JsonObject().put("exemptLoopback", false).put("ratePerSec", 0)))
      .put("webhooks", new JsonObject().put("maxBufferedBytes", 1024 * 1024)
        .put("linktree", new JsonObject().put("secrets", "whsec_share_test_secret")));
  }

  @Test
  void aClientHoldingItsShareInBytesIsRefusedAndAnotherIsNot() throws Exception {
    InetAddress stalling = InetAddress.getByName("127.0.0.2");
    InetAddress other = InetAddress.getByName("127.0.0.3");
    try (Socket stalled = connect(stalling)) {
      OutputStream out = stalled.getOutputStream();
      out.write(head(DECLARED, false).getBytes(StandardCharsets.US_ASCII));
      out.write(("{" + " ".repeat(200 * 1024)).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Once 200 KiB of it have arrived, a 100 KiB delivery from the same client is past its share: refused on its head.
      assertTrue(until(() -> status(stalling, 100 * 1024) == 503, 10_000), "the client past its share refused");
      // Another client still gets past the budget (refused for its signature, not for memory).
      assertEquals(403, status(other, DECLARED));
    }
    assertTrue(until(() -> status(stalling, 100 * 1024) == 403, 10_000), "the share given back when the sender left");
  }

  /**
   * Declared lengths hold nothing: 8 addresses with a stalled delivery each, each declaring the largest body (8 x 256
   * KiB: twice the budget), sent their heads, were asked for their bodies ({@code 100 Continue}: the head was read),
   * and sent one byte. A delivery from another address, and one from a stalling address, still get past the budget.
   */
  @Test
  void declaredBodiesThatDoNotArriveHoldNoBudget() throws Exception {
    List<Socket> stalls = new ArrayList<>();
    try {
      for (int a = 2; a <= 9; a++) {
        Socket s = connect(InetAddress.getByName("127.0.0." + (10 + a)));
        stalls.add(s);
        s.getOutputStream().write(head(DECLARED, false).replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        byte[] continued = new byte[25];
        int n = s.getInputStream().readNBytes(continued, 0, continued.length);
        assertEquals("HTTP/1.1 100 Continue\r\n\r\n", new String(continued, 0, n, StandardCharsets.US_ASCII), "stall " + a);
        s.getOutputStream().write('{');
        s.getOutputStream().flush();
      }
      assertEquals(403, status(InetAddress.getByName("127.0.0.20"), 10 * 1024), "another client gets past the budget");
      assertEquals(403, status(InetAddress.getByName("127.0.0.12"), 10 * 1024), "so does a stalling one");
    } finally {
      for (Socket s : stalls) {
        s.close();
      }
    }
  }

  /**
   * A body still arriving a second after its head gives way to a delivery that needs its room: with the budget held by
   * such bodies, a new delivery is taken and the stalled body longest arriving of the client holding the most is
   * refused ({@code 503 ingest_busy}) and its connection closed. Found with raw sockets: 24 addresses sending half of a
   * largest body each and stalling, again after every body deadline, kept 86 of 115 signed deliveries refused; with a
   * body's bytes held until the deadline whatever its progress, any 16 addresses sending their shares could.
   */
  @Test
  void bodiesStalledForOverASecondGiveWayToADeliveryThatNeedsTheirRoom() throws Exception {
    List<Socket> stalls = new ArrayList<>();
    try {
      for (int a = 0; a < 4; a++) {
        Socket s = connect(InetAddress.getByName("127.0.0." + (30 + a)));
        stalls.add(s);
        OutputStream out = s.getOutputStream();
        out.write(head(DECLARED, false).getBytes(StandardCharsets.US_ASCII));
        out.write(("{" + " ".repeat(250 * 1024)).getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      // 4 x 250 KiB of the 1-MiB budget held once they have arrived: a 100-KiB delivery is then taken only in place of
      // one of them (refused while they are younger than a second).
      assertTrue(until(() -> metric("biogate_webhook_bodies_held_bytes") >= 4 * 250 * 1024, 10_000), "the stalled bodies held");
      assertTrue(until(() -> status(InetAddress.getByName("127.0.0.40"), 100 * 1024) == 403, 10_000),
        "a delivery taken (refused for its signature, not for memory) in place of a stalled body");
      int refused = 0;
      for (Socket s : stalls) {
        s.setSoTimeout(1000);
        try {
          String answer = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
          refused += answer.startsWith("HTTP/1.1 503") ? 1 : 0;
        } catch (java.net.SocketTimeoutException stillHeld) {
          // a body that kept its place
        }
      }
      assertTrue(refused >= 1, "a stalled body answered 503 and closed");
      assertTrue(metric("biogate_webhook_bodies_evicted_total") >= 1, "counted");
    } finally {
      for (Socket s : stalls) {
        s.close();
      }
    }
  }

  private static String head(int length, boolean close) {
    return "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\n" + dev.biogate.support.RawHttp.FORGED_LINKTREE_SIGNATURE + "Content-Type: application/json\r\nContent-Length: " + length
      + (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
  }

  private Socket connect(InetAddress from) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), g.port(), from, 0);
    s.setSoTimeout(10_000);
    return s;
  }

  /** The status of a delivery from {@code from} with a body of {@code length} bytes, sent whole. */
  private int status(InetAddress from, int length) throws IOException {
    try (Socket s = connect(from)) {
      OutputStream out = s.getOutputStream();
      out.write(head(length, true).getBytes(StandardCharsets.US_ASCII));
      out.write(("{" + " ".repeat(length - 2) + "}").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      return answer.startsWith("HTTP/1.1 ") ? Integer.parseInt(answer.substring(9, 12)) : -1;
    } catch (IOException e) {
      // A refusal before the body closes the connection; the answer may have been read, or the write cut short.
      return -2;
    }
  }

  /** A metric's value on the gateway's {@code /metrics}. */
  private double metric(String name) throws Exception {
    String exposition = h.get(g, "/metrics").toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS).bodyAsString();
    return exposition.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1)))
      .findFirst().orElse(Double.NaN);
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private static boolean until(Check check, long timeoutMs) throws Exception {
    long end = System.nanoTime() + timeoutMs * 1_000_000;
    while (System.nanoTime() < end) {
      if (check.holds()) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }
}
