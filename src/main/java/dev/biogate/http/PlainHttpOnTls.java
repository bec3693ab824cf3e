package dev.biogate.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * First in a TLS connection's pipeline, before its TLS handler: a client speaking plain HTTP to a TLS listener (its
 * first byte an HTTP method's letter; a TLS record starts with its content type, 20 to 23) gets a plain-text
 * {@code 400 tls_required} and the connection closes, as nginx answers; it used to be closed without a word, which a
 * client cannot tell from a crash. Anything else goes on to TLS untouched, and this handler leaves the pipeline.
 */
@ChannelHandler.Sharable
final class PlainHttpOnTls extends ChannelInboundHandlerAdapter {

  static final String NAME = "biogatePlainHttpOnTls";
  static final PlainHttpOnTls INSTANCE = new PlainHttpOnTls();

  private static final byte[] ANSWER;

  static {
    String body = "{\"error\":\"tls_required\",\"message\":\"this port speaks HTTPS: send the request over TLS\"}";
    ANSWER = ("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
      + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
  }

  private PlainHttpOnTls() {
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b && b.isReadable()) {
      byte first = b.getByte(b.readerIndex());
      if (first >= 'A' && first <= 'Z') {
        ReferenceCountUtil.release(msg);
        // Nothing more is read: the answer goes out (written from here, it does not pass the TLS handler) and closes.
        ctx.channel().config().setAutoRead(false);
        ctx.pipeline().remove(this);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(ANSWER)).addListener(ChannelFutureListener.CLOSE);
        return;
      }
    }
    ctx.pipeline().remove(this);
    ctx.fireChannelRead(msg);
  }
}
