package dev.biogate.http;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Whether a request's client has already closed its side of the connection, as the kernel sees it now (TCP
 * {@code CLOSE_WAIT} or later, read with {@code TCP_INFO} on the native epoll transport; never on others). A client
 * that gave up waiting (its timeout, a tab closed) while the gateway was stalled (a GC pause, a frozen VM) leaves its
 * request and its close queued together: the request is still read and answered, but no one is there to follow it.
 * Browsers do not half-close a connection they still read from.
 */
public final class PeerClose {

  private static final int TCP_CLOSE = 7;
  private static final int TCP_CLOSE_WAIT = 8;
  private static final int TCP_LAST_ACK = 9;
  private static final int TCP_CLOSING = 11;

  private PeerClose() {
  }

  public static boolean closed(HttpServerRequest req) {
    HttpConnection conn = req.connection();
    if (!(conn instanceof ConnectionBase)) {
      return false;
    }
    Channel ch = ((ConnectionBase) conn).channel();
    if (!(ch instanceof EpollSocketChannel) || !ch.isOpen()) {
      return !ch.isOpen();
    }
    int state = ((EpollSocketChannel) ch).tcpInfo(new EpollTcpInfo()).state();
    return state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING || state == TCP_CLOSE;
  }
}
