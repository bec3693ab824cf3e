package dev.biogate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpServerOptions;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trailer section of a chunked body is held to the header rules, folded lines included. An attack pass found
 * {@code 0\r\nX-A: y\r\n\tTransfer-Encoding: chunked\r\n\r\n} accepted: the fold check ran on heads only, and the
 * codec joined the line to the field above. The decoder is fed here in one piece and byte by byte, as a slow client or
 * a split TCP segment would deliver it.
 */
class StrictHttpDecoderTrailerTest {

  private static final String HEAD = "POST /webhooks/linktree HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

  @Test
  void foldedTrailerLinesAreRefusedWhateverTheArrival() {
    for (String trailer : List.of("X-A: y\r\n z\r\n\r\n", "X-A: y\r\n\tTransfer-Encoding: chunked\r\n\r\n",
        "X-A: y\r\nX-B: 1\r\n  \r\n\r\n")) {
      for (boolean byteByByte : new boolean[] {false, true}) {
        Fed fed = feed(HEAD + "2\r\n{}\r\n0\r\n" + trailer, byteByByte);
        assertTrue(fed.answer.startsWith("HTTP/1.1 400 "), trailer + " byteByByte=" + byteByByte + ": " + fed.answer);
        assertTrue(fed.answer.contains("obs-fold"), fed.answer);
        assertFalse(fed.last, "the body must not be handed on: " + trailer);
      }
    }
  }

  @Test
  void wellFormedTrailersAndChunkDataThatLooksLikeFoldsAreAccepted() {
    List<String> bodies = List.of(
      "2\r\n{}\r\n0\r\nX-T: a\tb\r\nX-U: c\r\n\r\n",
      "6\r\n\r\n 0\r\n\r\n3\r\n\t0\n\r\n0\r\n\r\n",   // data lines that start with blanks, and a data "0" line
      "00\r\n\r\n",                                    // an empty body with a zero size written twice
      "1;ext=1\r\n \r\n0;x=y\r\nX-T: 1\r\n\r\n");       // chunk extensions; a one-space chunk
    for (String body : bodies) {
      for (boolean byteByByte : new boolean[] {false, true}) {
        Fed fed = feed(HEAD + body, byteByByte);
        assertEquals("", fed.answer, body + " byteByByte=" + byteByByte);
        assertTrue(fed.last, "the body ends: " + body);
      }
    }
  }

  /** The next request's head after a trailer is checked as a head again. */
  @Test
  void aFoldInTheNextHeadAfterATrailerIsStillRefused() {
    for (boolean byteByByte : new boolean[] {false, true}) {
      Fed fed = feed(HEAD + "0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", byteByByte);
      assertTrue(fed.last);
      assertEquals(1, fed.requests, "the folded head is not handed on, byteByByte=" + byteByByte);
      assertFalse(fed.open, "and the connection is closed");
    }
  }

  private record Fed(String answer, boolean last, int requests, boolean open) {}

  private static Fed feed(String request, boolean byteByByte) {
    EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpDecoder(new HttpServerOptions(), 10_000, 10_000, 1_000));
    byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
    if (byteByByte) {
      for (byte b : bytes) {
        if (channel.isActive()) {
          channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
      }
    } else {
      channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }
    boolean last = false;
    int requests = 0;
    for (Object msg; (msg = channel.readInbound()) != null; ) {
      if (msg instanceof HttpRequest r && r.decoderResult().isSuccess()) {
        requests++; // (a head cut short by the close is handed on as a failed one)
      }
      if (msg instanceof HttpContent content) {
        assertNotNull(content.decoderResult());
        last |= msg instanceof LastHttpContent && content.decoderResult().isSuccess();
      }
      ReferenceCountUtil.release(msg);
    }
    StringBuilder answer = new StringBuilder();
    for (Object msg; (msg = channel.readOutbound()) != null; ) {
      if (msg instanceof ByteBuf buf) {
        answer.append(buf.toString(StandardCharsets.ISO_8859_1));
      }
      ReferenceCountUtil.release(msg);
    }
    boolean open = channel.isOpen();
    channel.finishAndReleaseAll();
    return new Fed(answer.toString(), last, requests, open);
  }
}
