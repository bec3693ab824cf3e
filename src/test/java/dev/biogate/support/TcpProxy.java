package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP pass-through on a loopback ephemeral port, to play a network failure: {@link #cut()} closes every connection
 * through it and refuses new ones, so whatever talks through it loses its peer at once, as when its host dies.
 */
public final class TcpProxy {

  private final Vertx vertx;
  private final NetServer server;
  private final NetClient client;
  private final Set<NetSocket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;

  private TcpProxy(Vertx vertx, String host, int port, NetServerOptions options) {
    this.vertx = vertx;
    this.client = vertx.createNetClient();
    this.server = vertx.createNetServer(options).connectHandler(in -> {
      if (cut) {
        // The server closes its connections before it stops listening: nothing may get through in between.
        in.close();
        return;
      }
      in.pause();
      sockets.add(in);
      client.connect(port, host).onComplete(ar -> {
        if (ar.failed()) {
          in.close();
          return;
        }
        NetSocket out = ar.result();
        sockets.add(out);
        in.handler(out::write);
        out.handler(in::write);
        in.closeHandler(v -> out.close());
        out.closeHandler(v -> in.close());
        in.resume();
      });
    });
  }

  /** Listens on an ephemeral loopback port, forwarding to {@code host:port}. */
  public static Future<TcpProxy> start(Vertx vertx, String host, int port) {
    return listen(new TcpProxy(vertx, host, port, new NetServerOptions()));
  }

  /**
   * As {@link #start}, but {@link #cut()} resets the connections ({@code SO_LINGER} 0: the other side reads "connection
   * reset by peer" instead of an orderly end), as when a server crashes with requests still unread.
   */
  public static Future<TcpProxy> startResetting(Vertx vertx, String host, int port) {
    return listen(new TcpProxy(vertx, host, port, new NetServerOptions().setSoLinger(0)));
  }

  private static Future<TcpProxy> listen(TcpProxy p) {
    return p.server.listen(0, "127.0.0.1").map(p);
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * Closes every connection through the proxy and closes each new one at once until {@link #heal}, still listening: the
   * other side is cut off from the server for a while, as by a network partition.
   */
  public void sever() {
    cut = true;
    sockets.forEach(NetSocket::close);
    sockets.clear();
  }

  /** Lets connections through again after {@link #sever}. */
  public void heal() {
    cut = false;
  }

  /** Stops accepting and closes (or, {@link #startResetting resetting}, resets) every connection through the proxy. */
  public Future<Void> cut() {
    cut = true;
    return server.close().onComplete(v -> sockets.forEach(NetSocket::close)).eventually(client::close);
  }
}
