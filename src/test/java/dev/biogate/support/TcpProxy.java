package dev.biogate.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
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

  private TcpProxy(Vertx vertx, String host, int port) {
    this.vertx = vertx;
    this.client = vertx.createNetClient();
    this.server = vertx.createNetServer().connectHandler(in -> {
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
    TcpProxy p = new TcpProxy(vertx, host, port);
    return p.server.listen(0, "127.0.0.1").map(p);
  }

  public int port() {
    return server.actualPort();
  }

  /** Stops accepting and closes every connection through the proxy. */
  public Future<Void> cut() {
    return server.close().onComplete(v -> sockets.forEach(NetSocket::close)).eventually(client::close);
  }
}
