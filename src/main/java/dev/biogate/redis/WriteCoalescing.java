package dev.biogate.redis;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.impl.PooledRedisConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * One socket write for all the commands an event loop sends on a shared connection in one turn.
 * <p>
 * vertx-redis-client writes every command to the socket and flushes it at once: a flush is deferred only while the
 * connection itself is reading a reply. Commands sent from other connections' handlers (an HTTP request's
 * {@code EVALSHA}, most of the gateway's calls) are therefore one {@code send} system call each, and the server reads
 * them one by one. A profile of the webhook ingest load put a fifth of the event loops' CPU in those writes.
 * Netty's {@link FlushConsolidationHandler} in the connection's pipeline turns the flushes of one turn of the event
 * loop into one: the bytes are written after the loop has handled every socket that was ready, a few microseconds later.
 * <p>
 * The client offers no hook into its pipeline, so the socket is read from two of its internals, both stable across
 * 5.0.x: {@link PooledRedisConnection#actual()} and the {@code netSocket} field of the standalone connection. When
 * either is missing (another version) nothing is installed and commands are flushed one by one, as before.
 */
final class WriteCoalescing {

  private static final Logger LOG = LoggerFactory.getLogger(WriteCoalescing.class);
  static final String NAME = "biogate-write-coalescing";
  /** Flushes held back at most: a turn that sends more writes them out in chunks of this many commands. */
  static final int MAX_HELD_FLUSHES = 256;
  private static final Field NET_SOCKET = netSocketField();

  private WriteCoalescing() {
  }

  /** Installs the coalescing on {@code connection}'s socket; false when it cannot be reached (nothing changed). */
  static boolean install(RedisConnection connection) {
    ChannelHandlerContext writer = vertxHandler(connection);
    if (writer == null) {
      return false;
    }
    ChannelPipeline pipeline = writer.pipeline();
    if (pipeline.get(NAME) == null) {
      // Next to the handler that writes (before TLS, if any): what is consolidated is the commands, before encryption.
      pipeline.addBefore(writer.name(), NAME, new FlushConsolidationHandler(MAX_HELD_FLUSHES, true));
    }
    return true;
  }

  /** The pipeline of {@code connection}'s socket, or null when it cannot be reached. */
  static ChannelPipeline pipeline(RedisConnection connection) {
    ChannelHandlerContext ctx = vertxHandler(connection);
    return ctx == null ? null : ctx.pipeline();
  }

  private static ChannelHandlerContext vertxHandler(RedisConnection connection) {
    if (NET_SOCKET == null || !(connection instanceof PooledRedisConnection)) {
      return null;
    }
    Object actual = ((PooledRedisConnection) connection).actual();
    if (!NET_SOCKET.getDeclaringClass().isInstance(actual)) {
      return null;
    }
    try {
      Object socket = NET_SOCKET.get(actual);
      return socket instanceof NetSocketInternal ? ((NetSocketInternal) socket).channelHandlerContext() : null;
    } catch (IllegalAccessException e) {
      return null;
    }
  }

  private static Field netSocketField() {
    try {
      Field f = Class.forName("io.vertx.redis.client.impl.RedisStandaloneConnection").getDeclaredField("netSocket");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("Redis commands are flushed one by one: {}", e.toString());
      return null;
    }
  }
}
