package dev.biogate.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.impl.types.ErrorType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A Vert.x Redis client that is replaced by a new one as soon as a connection's handshake ({@code HELLO}/{@code AUTH},
 * {@code SELECT}) is refused with an error reply, the old one closed {@value #RETIRE_MS} ms later.
 * <p>
 * Why: vertx-redis-client 5.0.x does not close a connection whose handshake failed (fixed upstream in 5.1, not in
 * 5.0): the server keeps it open, idle after its refused {@code AUTH}. Once Redis refused the configured password (a
 * rotation on the server, an ACL change) each reconnect left one more open, about 11 a second for an instance, until
 * Redis's {@code maxclients} was full and the instances that had the right password could not connect either. Closing
 * a client closes every connection it opened, those left behind included; the wait lets the connections it still
 * lends (a blocking read, a subscription) finish or fail on their own first.
 */
final class RenewingClient {

  /** How long a replaced client is kept before it is closed with every connection it still has. */
  static final long RETIRE_MS = 10_000;
  /** How vertx-redis-client 5.0.x begins the failure of a Sentinel client that reached no Sentinel. */
  private static final String NO_SENTINEL = "Cannot connect to any of the provided endpoints";

  private final Vertx vertx;
  private final Supplier<Redis> clients;
  private volatile Redis current;
  /** Replaced, not closed yet. */
  private final Set<Redis> retired = new HashSet<>();
  private boolean closed;

  RenewingClient(Vertx vertx, Supplier<Redis> clients) {
    this.vertx = vertx;
    this.clients = clients;
    this.current = clients.get();
  }

  /** A connection from the current client; a refused handshake replaces that client for the next ones. */
  Future<RedisConnection> connect() {
    Redis client = current;
    return client.connect().onFailure(err -> {
      if (err instanceof ErrorType || handshakeRefused(err)) {
        replace(client);
      }
    });
  }

  /**
   * {@code request} on a pooled connection of the current client; a refused handshake (the password or the database:
   * {@code WRONGPASS}, {@code NOAUTH}, a {@code SELECT} refused) replaces that client.
   */
  Future<io.vertx.redis.client.Response> send(io.vertx.redis.client.Request request) {
    Redis client = current;
    return client.send(request).onFailure(err -> {
      if (handshakeRefused(err)) {
        replace(client);
      }
    });
  }

  /**
   * Whether {@code err} is a server refusing a connection's credentials or database, not a command: an error reply
   * that says so, or the Sentinel client's failure to reach any Sentinel, which lists each Sentinel's reply in its
   * message (every refused handshake behind it left a connection open: one per Sentinel per topology refresh).
   */
  static boolean handshakeRefused(Throwable err) {
    String m = err.getMessage() == null ? "" : err.getMessage();
    if (err instanceof ErrorType) {
      ErrorType e = (ErrorType) err;
      return e.is("WRONGPASS") || e.is("NOAUTH") || m.contains("DB index");
    }
    // The Sentinel client's "Cannot connect to any of the provided endpoints" (not public), each reply on a line.
    return m.startsWith(NO_SENTINEL) && (m.contains("WRONGPASS") || m.contains("NOAUTH") || m.contains("DB index"));
  }

  private void replace(Redis refused) {
    synchronized (this) {
      if (closed || current != refused) {
        return; // replaced already by another refusal: it is being retired
      }
      current = clients.get();
      retired.add(refused);
    }
    vertx.setTimer(RETIRE_MS, id -> retire(refused));
  }

  private void retire(Redis client) {
    synchronized (this) {
      if (!retired.remove(client)) {
        return; // closed with this one
      }
    }
    client.close();
  }

  Future<Void> close() {
    List<Redis> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(retired);
      retired.clear();
      all.add(current);
    }
    List<Future<Void>> closing = new ArrayList<>(all.size());
    all.forEach(c -> closing.add(c.close()));
    return Future.join(closing).mapEmpty();
  }
}
