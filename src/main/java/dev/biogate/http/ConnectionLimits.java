package dev.biogate.http;

import dev.biogate.config.HttpOptions;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Ceilings on the client listener's open connections: one for the listener, one per client address.
 * <p>
 * Each connection holds a file descriptor for as long as it is open, and the process shares its descriptors with its
 * Redis connections, upstream calls, click journals and the management port. Without a ceiling one client opening
 * connections it never used took them all, and the gateway could neither accept nor reach Redis. The listener's
 * ceiling leaves a reserve of descriptors for everything else; the per-client one keeps one address from taking the
 * listener's whole share. A connection over either is answered 503 and closed ({@link StrictHttpDecoder#refuseConnection}).
 * Connections also take heap, so the listener's default ceiling keeps them within a quarter of it as well.
 * <p>
 * The client is the connection's peer, not an {@code X-Forwarded-For} hop (nothing has been read yet). A trusted proxy
 * carries many clients on its connections, so it is held to the listener's ceiling only; so is loopback when
 * {@code exemptLoopback} is set. Admission and release are a few atomic operations per connection, not per request.
 * <p>
 * At the listener's ceiling an idle connection goes first: a new connection is admitted in place of the connection
 * that has waited longest for its next request among {@link #SAMPLE} sampled ones, which is closed (as nginx and
 * HAProxy do with idle keep-alive connections under pressure). Four addresses, each holding its 1,024 connections
 * idle after one request, kept every other client out for as long as they sent a request every two minutes. When no
 * sampled connection is idle, the one whose request (its head, then its body) has been arriving longest goes, if for
 * over a second (a trickle: 2,560 connections sending a head byte a second kept every other client out but at the
 * header deadlines; 2,850 heads declaring bodies that never came, from 3 addresses, did so for the body deadline).
 * A newcomer never closes a connection of an address holding fewer of the listener's connections than its own
 * (counting itself): a flood's newcomers take each other's places, not those of a client reading over one keep-alive
 * connection. And a newcomer from an address holding few connections first takes the place of a connection of the
 * sampled address holding the most (at least {@link #HEAVY} and twice the newcomer's), idle or with a request still
 * arriving however young (answered 503): sixty addresses of fifty trickling connections each, opened again as soon as
 * they were closed or refused, kept most places younger than a second; half the reads of a client opening a
 * connection each time were refused, and a client reading over one keep-alive connection saw it closed again and again.
 * Only when every sampled connection is in a request read whole and not yet answered (or one arriving for less than
 * a second, of an address not that much heavier) is the new one refused.
 * <p>
 * A TLS connection counts from the moment it is accepted ({@link #accept}, through {@link TlsAdmission}), not from the
 * end of its handshake: connections that never began one used to be counted nowhere. One over a ceiling then is closed
 * at once, and at the listener's ceiling a handshake unfinished for over a second goes after the idle connections.
 */
public final class ConnectionLimits {

  /** Descriptors kept out of the listener's reach: at most this many, and at most a quarter of the limit. */
  static final long RESERVE = 1024;
  /**
   * Heap a connection may take: an idle one held ~7.7 KB of live heap (10,000 measured), one in use more. The default
   * ceiling keeps connections within a quarter of the heap, the rest being the cache's and the work's: with a 160 MB
   * heap a flood of ~19,000 idle connections ran the process out of memory before the descriptors ran out.
   */
  static final long HEAP_PER_CONNECTION = 16 * 1024;
  /**
   * Refused connections kept open at once while their 503 is read ({@link StrictHttpDecoder#refuseConnection}); past
   * this, a refused connection is closed as soon as its answer is written, so that a flood cannot spend the reserve.
   */
  static final int MAX_LINGERING = 256;

  private final int max;
  private final int perClient;
  private final ClientAddress proxies;
  private final boolean exemptLoopback;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> byClient = new ConcurrentHashMap<>();
  private final LongAdder refused = new LongAdder();
  private final AtomicInteger lingering = new AtomicInteger();
  /** Connections that can be closed for a newcomer, by slot; {@code null} where free or not HTTP/1.x. */
  private final AtomicReferenceArray<StrictHttpDecoder> slots;
  /** The per-client key of each slot's connection; {@code null} where not held to a per-client ceiling. */
  private final AtomicReferenceArray<String> slotClients;
  /** Free slot indexes (a stack), guarded by itself. */
  private final int[] free;
  private int freeTop;
  private final LongAdder evicted = new LongAdder();

  /** Connections looked for, in all, to make room for one newcomer when those found first stay open. */
  static final int EVICTION_TRIES = 3;
  /** Connections sampled for the one idle longest when the listener is full. */
  static final int SAMPLE = 32;
  /**
   * A request still arriving after this long may be closed for a newcomer at the listener's ceiling: a client sends its
   * head at once (one packet as a rule) and its body right after, and one that trickles either, or stalls, holds a place
   * doing nothing.
   */
  static final long SLOW_ARRIVAL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
  /**
   * An address holding at least this many connections (and twice as many as a newcomer's) may lose a young head for
   * the newcomer at the listener's ceiling.
   */
  static final int HEAVY = 4;
  /** At most this many connections are tracked as eviction candidates (16 bytes of tables each). */
  static final int MAX_SLOTS = 1 << 18;
  /** The place of a TLS connection counted when it was accepted. */
  private static final AttributeKey<Admitted> PLACE = AttributeKey.valueOf("biogate.connectionPlace");
  /**
   * TLS connections counted from their acceptance, oldest first; those whose handshake has ended leave from the head.
   * A handshake ends within the listener's handshake timeout, so this holds at most the connections accepted in it.
   */
  private final ConcurrentLinkedQueue<Admitted> handshaking = new ConcurrentLinkedQueue<>();

  public ConnectionLimits(HttpOptions options) {
    this(options.maxConnections() > 0 ? options.maxConnections() : fromProcessLimits(), options.maxConnectionsPerClient(),
      options.trustedProxies(), options.exemptLoopback());
  }

  /**
   * The management listener's ceiling ({@code http.management.maxConnections}): no per-client one (probes and scrapes
   * come from few addresses, often loopback), idle connections closed first to make room. Without it, ~18,800 idle
   * connections to the management port ran a 160 MB heap out of memory, and 20,000 took every descriptor. Connections
   * are still counted per address (a ceiling per address no address reaches), so that a heavy address's newcomers
   * leave room to a light one as on the client listener: without the counts, 4 addresses x 150 trickling heads kept
   * 15 % of the management port's probes refused or reset.
   */
  public static ConnectionLimits management(HttpOptions options) {
    return new ConnectionLimits(options.managementMaxConnections(), Integer.MAX_VALUE, List.of(), false);
  }

  /**
   * Counts {@code conn} (read by {@code decoder}, or {@code null} when not HTTP/1.x) against the ceilings, or refuses
   * it: a 503 {@code too_many_connections} when a decoder can answer, else a plain close.
   */
  public void admit(HttpConnection conn, StrictHttpDecoder decoder) {
    if (!(conn instanceof ConnectionBase)) {
      return;
    }
    Admitted counted = ((ConnectionBase) conn).channel().attr(PLACE).get();
    if (counted != null) {
      // Counted when accepted (TLS); released when it closes, unless that has happened already.
      counted.handshakeEnded();
      if (decoder != null && !counted.released) {
        counted.slot = take(decoder, counted.client);
      }
      return;
    }
    Admitted place = admit(conn.remoteAddress(), decoder);
    if (place == null) {
      if (decoder != null) {
        decoder.refuseConnection(this);
      } else {
        conn.close(); // not HTTP/1.x: no decoder of ours to answer with
      }
      return;
    }
    ((ConnectionBase) conn).channel().closeFuture().addListener(f -> release(place));
  }

  /**
   * Counts {@code child}, a TLS connection just accepted (not yet registered, nothing read), against the ceilings;
   * false when a ceiling refuses it and the caller is to close it. Its place is given back when it closes.
   */
  boolean accept(Channel child) {
    if (!(child.remoteAddress() instanceof InetSocketAddress)) {
      return true; // counted after its handshake, as a connection of no address would be
    }
    Admitted place = admit(SocketAddress.inetSocketAddress((InetSocketAddress) child.remoteAddress()), null);
    if (place == null) {
      return false;
    }
    place.channel = child;
    place.handshakeSince.set(System.nanoTime());
    child.attr(PLACE).set(place);
    for (Admitted head; (head = handshaking.peek()) != null && head.handshakeSince.get() == 0; ) {
      handshaking.remove(head);
    }
    handshaking.add(place);
    child.pipeline().addFirst(new HandshakeWatch(place));
    child.closeFuture().addListener(f -> {
      place.handshakeEnded();
      release(place);
    });
    return true;
  }

  ConnectionLimits(int max, int perClient, List<String> trustedProxies, boolean exemptLoopback) {
    this.max = max;
    this.perClient = perClient;
    this.proxies = ClientAddress.trusting(trustedProxies);
    this.exemptLoopback = exemptLoopback;
    // Admitted in place of an idle one, a connection counts before that one has closed: room for the overlap. The
    // table is bounded (a configured ceiling may be millions); connections past it are not eviction candidates.
    int room = (int) Math.min(MAX_SLOTS, max + (long) overlap(max));
    this.slots = new AtomicReferenceArray<>(room);
    this.slotClients = new AtomicReferenceArray<>(room);
    this.free = new int[room];
    for (int i = 0; i < room; i++) {
      free[i] = room - 1 - i;
    }
    this.freeTop = room;
  }

  /**
   * Connections admitted past the ceiling while the idle ones they replace are closing: a sixteenth of it, and never
   * more than a quarter of {@link #RESERVE}, since they take descriptors from the reserve (a sixteenth of 18,976 was
   * more than the whole reserve). A heavy address's newcomers use only half of it ({@link #overlapFor}).
   */
  static int overlap(int max) {
    return (int) Math.max(16, Math.min(max / 16, RESERVE / 4));
  }

  /**
   * An address holding at least this many connections (its newcomer included) may use only half the room for overlap:
   * above a browser's six per host (with {@link #HEAVY}, three light addresses opening 4 at once under a flood got one
   * refusal each).
   */
  static final int OVERLAP_HEAVY = 8;

  /**
   * The room for overlap a newcomer of {@code client} may use (already counted with it): all of it for an address
   * holding fewer than {@link #OVERLAP_HEAVY} connections (or one not held to a per-client ceiling), half for a heavier
   * one.
   * Under a flood the heavy addresses' newcomers replace each other faster than the connections they replace close;
   * sixty addresses of fifty trickling connections each, reopened as soon as closed, kept the whole overlap taken, and
   * every refusal of a client opening one connection per read (77 of 337 reads) was for that.
   */
  private int overlapFor(String client) {
    int room = overlap(max);
    return client != null && byClient.getOrDefault(client, 0) >= OVERLAP_HEAVY ? room / 2 : room;
  }

  /** The listener's ceiling when none is configured, from this process's descriptor limit and heap ({@link #ceiling}). */
  static int fromProcessLimits() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    long fds = os instanceof com.sun.management.UnixOperatingSystemMXBean
      ? ((com.sun.management.UnixOperatingSystemMXBean) os).getMaxFileDescriptorCount() : -1;
    return ceiling(fds > 0 ? fds : 10_000 + RESERVE, Runtime.getRuntime().maxMemory());
  }

  /**
   * The descriptor limit {@code fds} less a reserve of {@link #RESERVE} (a quarter of the limit when that is
   * smaller), and no more connections than a quarter of {@code maxHeap} holds at {@link #HEAP_PER_CONNECTION} each.
   */
  static int ceiling(long fds, long maxHeap) {
    long byDescriptors = fds - Math.min(RESERVE, fds / 4);
    long byHeap = maxHeap == Long.MAX_VALUE ? Long.MAX_VALUE : maxHeap / 4 / HEAP_PER_CONNECTION;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(16, Math.min(byDescriptors, byHeap)));
  }

  /**
   * Counts a new connection from {@code peer}, or refuses it (nothing counted) when a ceiling is reached. An admitted
   * connection must be {@link #release released} exactly once, with the key this returns; {@code null} means refused.
   */
  public Admitted admit(SocketAddress peer) {
    return admit(peer, null);
  }

  /**
   * As {@link #admit(SocketAddress)}, for a connection {@code decoder} reads (or {@code null}): at the listener's
   * ceiling the connection idle longest among a sample is closed to make room, and {@code decoder}'s connection may be
   * closed so for a later one.
   */
  public Admitted admit(SocketAddress peer, StrictHttpDecoder decoder) {
    // The client's own ceiling first: a connection it refuses must not have cost another one its place.
    String client = limited(peer);
    if (client != null && byClient.merge(client, 1, Integer::sum) > perClient) {
      release(client);
      refused.increment();
      return null;
    }
    int now = open.incrementAndGet();
    if (now > max && (now > max + overlapFor(client) || !evictIdle(client, decoder, EVICTION_TRIES))) {
      open.decrementAndGet();
      if (client != null) {
        release(client);
      }
      refused.increment();
      return null;
    }
    return new Admitted(client, decoder == null ? -1 : take(decoder, client));
  }

  /**
   * Closes a connection for a newcomer ({@code itself}, read by that decoder if any) among {@link #SAMPLE} slots
   * sampled, never one of an address holding fewer connections than {@code newcomer}'s (counting the newcomer). First
   * a connection of a <em>heavy</em> address (holding at least {@link #HEAVY}, and twice as many as the newcomer's),
   * of the heaviest one sampled: idle, or else its request (head or body) still arriving, however young (answered 503).
   * Else the one idle longest; else the TLS connection whose handshake has gone on longest, or the one whose request
   * has been arriving longest, if for over {@link #SLOW_ARRIVAL_NANOS} (answered 408). False when none is found.
   * <p>
   * A connection that is no longer what it was sampled as when its event loop comes to close it (a request began, or
   * it was read whole) stays, and another is looked for, up to {@code tries} in all: else the newcomer admitted
   * in its place would stay over the ceiling, and enough such misses (a flood of connections sending their first byte
   * right after opening) used up the room for overlap, so that every newcomer was refused from then on.
   */
  private boolean evictIdle(String newcomer, StrictHttpDecoder itself, int tries) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int n = slots.length();
    // Already counted with the newcomer; 0 when not held to a per-client ceiling (a trusted proxy carries many).
    int mine = newcomer == null ? 0 : byClient.getOrDefault(newcomer, 0);
    int heavy = Math.max(HEAVY, 2 * mine);
    Candidate oldest = new Candidate();
    Candidate slowest = new Candidate();
    Candidate heaviest = new Candidate();
    int heaviestHolds = 0;
    for (int i = 0; i < SAMPLE; i++) {
      int slot = random.nextInt(n);
      StrictHttpDecoder d = slots.get(slot);
      if (d == null || d == itself) {
        continue; // a later try finds the newcomer in the table: never in its own place
      }
      String client = slotClients.get(slot);
      int holds = client == null ? Integer.MAX_VALUE : byClient.getOrDefault(client, 0);
      if (holds < mine) {
        continue; // never a lighter address's place
      }
      long idle = d.idleSince();
      long arriving = d.arrivingSince();
      oldest.consider(d, idle);
      slowest.consider(d, arriving);
      if (client != null && holds >= heavy && (idle != 0 || arriving != 0) && holds >= heaviestHolds) {
        if (holds > heaviestHolds) {
          heaviest.clear();
          heaviestHolds = holds;
        }
        // Of the heaviest address: an idle connection before a request arriving, the longest waiting of either.
        heaviest.consider(d, idle != 0 ? idle : arriving, idle != 0);
      }
    }
    Runnable missed = () -> {
      evicted.decrement();
      if (tries > 1) {
        evictIdle(newcomer, itself, tries - 1);
      }
    };
    if (heaviest.d != null) {
      if (heaviest.idle) {
        heaviest.d.closeIfIdle(missed);
      } else {
        heaviest.d.closeIfRequestOfHeavyClient(heaviest.since, missed);
      }
    } else if (oldest.d != null) {
      oldest.d.closeIfIdle(missed);
    } else if (!closeSlowHandshake()) {
      if (slowest.d == null || System.nanoTime() - slowest.since <= SLOW_ARRIVAL_NANOS) {
        return false;
      }
      slowest.d.closeIfSlowRequest(slowest.since, missed);
    }
    evicted.increment();
    return true;
  }

  /** The connection waiting since the earliest time ({@code System.nanoTime()}, 0 = not waiting) of those considered. */
  private static final class Candidate {
    StrictHttpDecoder d;
    long since;
    boolean idle;

    void consider(StrictHttpDecoder c, long waitingSince) {
      consider(c, waitingSince, false);
    }

    /** An idle connection goes before any that is not; among equals, the one waiting longest. */
    void consider(StrictHttpDecoder c, long waitingSince, boolean isIdle) {
      if (waitingSince == 0) {
        return;
      }
      if (d == null || (isIdle && !idle) || (isIdle == idle && waitingSince - since < 0)) {
        d = c;
        since = waitingSince;
        idle = isIdle;
      }
    }

    void clear() {
      d = null;
      since = 0;
      idle = false;
    }
  }

  /** Closes the TLS connection whose handshake has gone on longest, if for over {@link #SLOW_ARRIVAL_NANOS}. */
  private boolean closeSlowHandshake() {
    long now = System.nanoTime();
    for (Admitted head; (head = handshaking.peek()) != null; ) {
      long since = head.handshakeSince.get();
      if (since != 0 && now - since <= SLOW_ARRIVAL_NANOS) {
        return false;
      }
      handshaking.remove(head);
      if (since != 0 && head.handshakeSince.compareAndSet(since, 0)) {
        head.channel.close();
        return true;
      }
    }
    return false;
  }

  private int take(StrictHttpDecoder decoder, String client) {
    int slot;
    synchronized (free) {
      if (freeTop == 0) {
        return -1; // past the table: admitted, not a candidate
      }
      slot = free[--freeTop];
    }
    slotClients.set(slot, client);
    slots.set(slot, decoder);
    return slot;
  }

  /** Gives back the places an admitted connection held. */
  public void release(Admitted admitted) {
    admitted.released = true;
    if (admitted.slot >= 0) {
      slots.set(admitted.slot, null);
      slotClients.set(admitted.slot, null);
      synchronized (free) {
        free[freeTop++] = admitted.slot;
      }
    }
    open.decrementAndGet();
    if (admitted.client != null) {
      release(admitted.client);
    }
  }

  private void release(String client) {
    byClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** The per-client key of {@code peer}, or {@code null} when the peer is not held to a per-client ceiling. */
  private String limited(SocketAddress peer) {
    if (perClient <= 0) {
      return null;
    }
    byte[] ip = ClientAddress.peer(peer);
    if (ip == null || proxies.trusted(ip) || (exemptLoopback && ClientAddress.loopback(ip))) {
      return null;
    }
    return ClientAddress.keyText(ip);
  }

  /** A refused connection may stay open a moment for its answer to be read; {@link #lingered} when it closes. */
  boolean mayLinger() {
    if (lingering.incrementAndGet() > MAX_LINGERING) {
      lingering.decrementAndGet();
      return false;
    }
    return true;
  }

  void lingered() {
    lingering.decrementAndGet();
  }

  /** Connections open now. */
  public int open() {
    return open.get();
  }

  /** Connections refused so far for a full ceiling. */
  public long refused() {
    return refused.sum();
  }

  /** Idle connections closed so far to admit a new one at the listener's ceiling. */
  public long evicted() {
    return evicted.sum();
  }

  public int max() {
    return max;
  }

  /**
   * An admitted connection's place: the client key it counts under, if any, and its eviction slot. A TLS connection
   * counted when accepted also has its channel and the time its handshake began (0 once it has ended); its slot is
   * taken, and its place released, on its event loop.
   */
  public static final class Admitted {
    private final String client;
    private int slot;
    private boolean released;
    private Channel channel;
    private final AtomicLong handshakeSince = new AtomicLong();

    private Admitted(String client, int slot) {
      this.client = client;
      this.slot = slot;
    }

    void handshakeEnded() {
      handshakeSince.set(0);
    }
  }

  /**
   * Ends a counted connection's handshake when its TLS handler says so, then leaves the pipeline. Added first to the
   * accepted connection's pipeline, it is active once Vert.x has added the TLS handler behind it.
   */
  private static final class HandshakeWatch extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final Admitted place;

    HandshakeWatch(Admitted place) {
      this.place = place;
    }

    @Override
    public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
      SslHandler tls = ctx.pipeline().get(SslHandler.class);
      if (tls != null) {
        tls.handshakeFuture().addListener(f -> place.handshakeEnded());
      }
      ctx.fireChannelActive();
      ctx.pipeline().remove(this);
    }
  }
}
