package dev.biogate.webhook;

import dev.biogate.Gateway;
import dev.biogate.redis.RedisKeys;
import dev.biogate.support.Harness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Webhook bodies are UTF-8 or refused before anything is queued; what is queued is the verified bytes, exactly. */
@ExtendWith(VertxExtension.class)
class WebhookEncodingTest {

  private Harness h;
  private Gateway g;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    h = new Harness(vertx);
    h.start().compose(v -> h.gateway(Deliveries.config())).onSuccess(gw -> g = gw).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  /** A Linktree link update whose title is spliced from raw bytes. */
  private static Buffer envelope(byte[] inside) {
    Buffer b = Buffer.buffer("{\"type\":\"link.updated\",\"timestamp\":\"" + java.time.Instant.now() + "\","
      + "\"data\":{\"link_id\":\"lnk_1\",\"url\":\"https://example.com\",\"position\":1,\"title\":\"");
    return b.appendBytes(inside).appendString("\"}}");
  }

  private Future<io.vertx.ext.web.client.HttpResponse<Buffer>> deliver(Buffer body) {
    return h.post(g, "/webhooks/linktree", Deliveries.linktree("dlv-" + System.nanoTime(), body), body);
  }

  @Test
  void refusesBodiesThatAreNotUtf8BeforeQueueing(VertxTestContext ctx) {
    List<Buffer> bodies = List.of(
      envelope(new byte[] {(byte) 0xC0, (byte) 0xAF}),                                   // overlong '/'
      envelope(new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}),                      // overlong, 3 bytes
      envelope(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0xBD, (byte) 0xED, (byte) 0xB8, (byte) 0x80}), // CESU surrogates
      envelope(new byte[] {(byte) 0xED, (byte) 0xB0, (byte) 0x80}),                      // lone low surrogate
      Buffer.buffer(new byte[] {(byte) 0xFF, (byte) 0xFE}).appendBytes("{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_16LE)),
      Buffer.buffer("{\"id\":\"utf16-no-bom\",\"event\":\"link.click\"}".getBytes(StandardCharsets.UTF_16LE)));
    List<Future<Integer>> sent = new ArrayList<>();
    for (Buffer b : bodies) {
      sent.add(deliver(b).map(r -> {
        assertEquals("invalid_encoding", r.bodyAsJsonObject().getString("error"), r.bodyAsString());
        return r.statusCode();
      }));
    }
    // Handled entries are deleted from the stream, so "never queued" is read from the id it last generated.
    Future.all(sent).compose(all -> h.redis(Request.cmd(Command.XINFO).arg("STREAM").arg(RedisKeys.EVENTS_STREAM))
      .recover(noStream -> Future.succeededFuture(null)).map(info -> {
        for (Future<Integer> f : sent) {
          assertEquals(400, f.result());
        }
        if (info != null) {
          assertEquals("0-0", info.get("last-generated-id").toString(), "an entry was queued: " + info);
        }
        return null;
      })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void queuesExactlyTheVerifiedBytes(VertxTestContext ctx) {
    Buffer body = envelope("caf\u00e9_\uD83D\uDE00_\u4e2d".getBytes(StandardCharsets.UTF_8));
    // The consumer deletes an entry once handled: watch the stream with a blocking read registered before the POST.
    Future<Response> queued = h.redis(Request.cmd(Command.XREAD).arg("BLOCK").arg(20_000).arg("STREAMS")
      .arg(RedisKeys.EVENTS_STREAM).arg("$"));
    h.eventually(() -> h.redis(Request.cmd(Command.CLIENT).arg("LIST")).map(list -> {
        for (String line : list.toString().split("\n")) {
          if (line.contains(" flags=b ") && line.contains(" cmd=xread ")) {
            return true; // our read is parked on the server: the entry cannot slip by unseen
          }
        }
        return false;
      }), 10_000)
      .compose(v -> deliver(body))
      .compose(r -> {
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return queued;
      })
      .onComplete(ctx.succeeding(read -> ctx.verify(() -> {
        Response entries = read.get(RedisKeys.EVENTS_STREAM) != null ? read.get(RedisKeys.EVENTS_STREAM) : read.get(0).get(1);
        Response fields = entries.get(0).get(1);
        boolean found = false;
        for (int i = 0; i + 1 < fields.size(); i += 2) {
          if ("body".equals(fields.get(i).toString())) {
            assertArrayEquals(body.getBytes(), fields.get(i + 1).toBytes());
            found = true;
          }
        }
        assertTrue(found, "no body field in " + read);
        ctx.completeNow();
      })));
  }
}
