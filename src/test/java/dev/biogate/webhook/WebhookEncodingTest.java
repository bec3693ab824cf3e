package dev.biogate.webhook;

import dev.biogate.redis.RedisKeys;
import dev.biogate.support.HarnessTest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Webhook bodies are UTF-8 or refused before anything is queued; what is queued is the verified bytes, exactly. */
class WebhookEncodingTest extends HarnessTest {

  @Override
  protected JsonObject gatewayOverrides() {
    return Deliveries.config().put("webhooks", Deliveries.webhooks().put("shards", 1));
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
    Future.all(sent).compose(all -> h.redis(Request.cmd(Command.XINFO).arg("STREAM").arg(RedisKeys.eventsShard(0)))
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
      .arg(RedisKeys.eventsShard(0)).arg("$"));
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
        Response entries = read.get(RedisKeys.eventsShard(0)) != null ? read.get(RedisKeys.eventsShard(0)) : read.get(0).get(1);
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
