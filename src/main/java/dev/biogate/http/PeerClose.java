package dev.biogate.http;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Whether a request's client gave up on it before it was answered, as the kernel sees the connection now (read with
 * {@code TCP_INFO} on the native epoll transport; never on others): the client closed its side (TCP
 * {@code CLOSE_WAIT} or later) at least {@value #GAVE_UP_AFTER_MS} ms after its request arrived. A client that timed
 * out (a tab closed, a script's deadline) while the gateway was stalled (a GC pause, a frozen VM) leaves its request
 * and its close queued together: the request is still read and answered, but no one is there to follow it. A client
 * that half-closes right after sending its request (a TCP half-close, which the gateway supports) still reads its
 * answer: its close comes with the request, not a second later.
 */
public final class PeerClose {

  /** A close this long after the request's last byte is a client that stopped waiting, not a half-close. */
  static final int GAVE_UP_AFTER_MS = 1_000;
  private static final int TCP_CLOSE = 7;
  private static final int TCP_CLOSE_WAIT = 8;
  private static final int TCP_LAST_ACK = 9;
  private static final int TCP_CLOSING = 11;

  private PeerClose() {
  }

  public static boolean gaveUp(HttpServerRequest req) {
    HttpConnection conn = req.connection();
    if (!(conn instanceof ConnectionBase)) {
      return false;
    }
    Channel ch = ((ConnectionBase) conn).channel();
    if (!ch.isOpen()) {
      return true; // reset by the client
    }
    if (!(ch instanceof EpollSocketChannel)) {
      return false;
    }
    EpollTcpInfo info = ((EpollSocketChannel) ch).tcpInfo(new EpollTcpInfo());
    int state = info.state();
    if (state != TCP_CLOSE_WAIT && state != TCP_LAST_ACK && state != TCP_CLOSING && state != TCP_CLOSE) {
      return false;
    }
    // Milliseconds since the request's last byte, and since the last segment acknowledging anything: the client's
    // close, once it has closed (its earlier acknowledgements came before the request).
    return info.lastDataRecv() - info.lastAckRecv() >= GAVE_UP_AFTER_MS;
  }
}
