package dev.biogate.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpServerOptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that pipelines requests and never reads the answers holds a bounded number of decoded requests. An attack
 * pass sent 170 KB of pipelined {@code GET}s on each of 150 connections without reading: the decoder decoded every
 * request it had received and Vert.x queued them behind the unanswered first one (about 600 bytes of heap each, up to
 * 12 MiB a connection), and a 160 MiB heap ran out within 12 s. Now at most {@link StrictHttpDecoder#MAX_UNANSWERED}
 * requests are decoded ahead of their answers; the rest wait as bytes, the socket unread, and are decoded, in order,
 * as answers go out, also after the client closed its sending side.
 */
class PipelineDepthTest {

  private static final int SENT = 1_000;

  @Test
  void pipelinedRequestsAreDecodedOnlyAsFastAsTheyAreAnswered() {
    Pipe pipe = new Pipe(false);
    assertEquals(StrictHttpDecoder.MAX_UNANSWERED, pipe.decoded.size(), "decoded ahead of any answer");
    assertFalse(pipe.channel.config().isAutoRead(), "and the socket is not read meanwhile");
    pipe.answerAll();
    assertEquals(SENT, pipe.decoded.size());
    assertTrue(pipe.channel.config().isAutoRead(), "reading resumes once nothing waits");
    assertTrue(pipe.channel.isOpen());
    pipe.channel.finishAndReleaseAll();
  }

  @Test
  void requestsSentBeforeAHalfCloseAreAllAnsweredThenTheConnectionCloses() {
    Pipe pipe = new Pipe(true);
    assertEquals(StrictHttpDecoder.MAX_UNANSWERED, pipe.decoded.size());
    assertTrue(pipe.channel.isOpen(), "open while requests it sent wait for answers");
    pipe.answerAll();
    assertEquals(SENT, pipe.decoded.size(), "none of what was sent before the close is dropped");
    pipe.channel.runPendingTasks();
    assertFalse(pipe.channel.isOpen(), "closed once the last is answered");
    pipe.channel.finishAndReleaseAll();
  }

  /** {@value #SENT} pipelined GETs, in one write, to a decoder whose answers the test writes one at a time. */
  private static final class Pipe {
    final EmbeddedChannel channel;
    final List<String> decoded = new ArrayList<>();

    Pipe(boolean halfClose) {
      StrictHttpDecoder decoder = new StrictHttpDecoder(new HttpServerOptions(), 60_000, 60_000, 1_000);
      channel = new EmbeddedChannel(decoder, decoder.new AnswerWatch());
      StringBuilder requests = new StringBuilder();
      for (int i = 0; i < SENT; i++) {
        requests.append("GET /r/").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
      }
      channel.writeInbound(Unpooled.copiedBuffer(requests, StandardCharsets.ISO_8859_1));
      if (halfClose) {
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      }
      collect();
    }

    /** Answers the decoded requests in order until every one sent is decoded and answered. */
    void answerAll() {
      for (int answered = 0; answered < decoded.size(); answered++) {
        assertEquals("/r/" + answered, decoded.get(answered), "in order");
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        ReferenceCountUtil.release(channel.readOutbound());
        channel.runPendingTasks();
        collect();
        assertTrue(decoded.size() - answered - 1 <= StrictHttpDecoder.MAX_UNANSWERED, "waiting: " + (decoded.size() - answered - 1));
      }
    }

    private void collect() {
      for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
        if (msg instanceof HttpRequest) {
          decoded.add(((HttpRequest) msg).uri());
        }
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
