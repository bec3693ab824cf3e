package dev.biogate.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * Counts a TLS listener's connections against its {@link ConnectionLimits} when they are accepted, not when their
 * handshake is done.
 * <p>
 * Vert.x hands a TLS connection to the server's connection handler only after its handshake, which a client may never
 * begin: connections that sent no ClientHello were counted nowhere, so 6,000 from one address held descriptors past
 * the per-client ceiling of 1,024, and three addresses opening 7,000 each took every descriptor of the process. This
 * handler sits first in the listening socket's pipeline and sees each accepted connection before anything is read
 * from it: one over a ceiling is closed at once (nothing can be answered before a handshake), the others are counted
 * from then on ({@link ConnectionLimits#accept}) and first read by {@link PlainHttpOnTls}.
 * <p>
 * Vert.x has no public hook there; the listening channel is read from the server's fields (Vert.x 5.0, checked by
 * {@code TlsHandshakeFloodTest}). Should they change, connections are counted after their handshake as before, with a
 * warning.
 */
@ChannelHandler.Sharable
final class TlsAdmission extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(TlsAdmission.class);
  private static final String NAME = "biogateTlsAdmission";

  private final ConnectionLimits limits;

  private TlsAdmission(ConnectionLimits limits) {
    this.limits = limits;
  }

  /** Counts the connections {@code server} (listening, with TLS) accepts against {@code limits} from then on. */
  static void install(HttpServer server, ConnectionLimits limits) {
    Channel listener;
    try {
      Object tcp = field(server, "tcpServer");
      Object bound = field(field(tcp, "actualServer"), "bindFuture");
      listener = (Channel) ((Future<?>) bound).result();
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("Connections in their TLS handshake are not counted against the connection ceilings: {}", e.toString());
      return;
    }
    // The verticle instances share one listening socket: the first to get here installs the handler.
    synchronized (TlsAdmission.class) {
      if (listener.pipeline().get(NAME) == null) {
        listener.pipeline().addFirst(NAME, new TlsAdmission(limits));
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Channel && !limits.accept((Channel) msg)) {
      ((Channel) msg).unsafe().closeForcibly(); // not registered yet: as Netty closes a child it cannot take
      return;
    }
    if (msg instanceof Channel) {
      // Before the handlers the listener adds next (its TLS handler among them): they go after it.
      ((Channel) msg).pipeline().addFirst(PlainHttpOnTls.NAME, PlainHttpOnTls.INSTANCE);
    }
    ctx.fireChannelRead(msg);
  }

  private static Object field(Object owner, String name) throws ReflectiveOperationException {
    for (Class<?> c = owner.getClass(); c != null; c = c.getSuperclass()) {
      try {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
      } catch (NoSuchFieldException e) {
        // declared higher up
      }
    }
    throw new NoSuchFieldException(owner.getClass().getName() + "." + name);
  }
}
