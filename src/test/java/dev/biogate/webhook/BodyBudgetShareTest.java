package dev.biogate.webhook;

import dev.biogate.support.HarnessTest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One client holds at most its share of the webhook body budget. Found with raw sockets: one address opened 128
 * connections, each declaring a 256 KiB body it never sent, and reconnected after each body deadline; every signed
 * delivery from every provider was answered {@code 503 ingest_busy} for as long as it went on. Here the budget is
 * 1 MiB, a client's share one largest body (256 KiB): a client past its share is refused, another is not.
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
  void aClientPastItsShareIsRefusedAndAnotherIsNot() throws Exception {
    InetAddress stalling = InetAddress.getByName("127.0.0.2");
    InetAddress other = InetAddress.getByName("127.0.0.3");
    try (Socket stalled = connect(stalling)) {
      OutputStream out = stalled.getOutputStream();
      out.write(head(DECLARED, false).getBytes(StandardCharsets.US_ASCII));
      out.write('{');
      out.flush();
      // Once its head is read, the stalled delivery holds the client's whole share: a small one from it is refused.
      assertTrue(until(() -> status(stalling, 10 * 1024) == 503, 10_000), "the client past its share refused");
      // Another client still gets past the budget (refused for its signature, not for memory).
      assertEquals(403, status(other, DECLARED));
    }
    assertTrue(until(() -> status(stalling, 10 * 1024) == 403, 10_000), "the share given back when the sender left");
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
