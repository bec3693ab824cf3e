package dev.biogate.redis;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports for Redis servers this process starts and may restart on the same port. They are chosen below
 * the kernel's ephemeral range ({@code /proc/sys/net/ipv4/ip_local_port_range}): a port from that range (what
 * binding port 0 hands out) can be taken, while its server is down, as the local port of any outgoing connection, and
 * the restart then fails with "address already in use". A port handed out once is not handed out again by this process.
 */
public final class LoopbackPorts {

  private static final int LOWEST = 10_000;
  /** Fewer candidates than this below the ephemeral range: use the kernel's choice instead. */
  private static final int MIN_CANDIDATES = 1_000;
  private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  private static final Set<Integer> HANDED_OUT = new HashSet<>();

  private LoopbackPorts() {
  }

  /** A free port; with {@code companionOffset > 0}, {@code port + companionOffset} is free too (a cluster bus). */
  public static int free(int companionOffset) throws IOException {
    return free(companionOffset, ephemeralLow());
  }

  static synchronized int free(int companionOffset, int ephemeralLow) throws IOException {
    int highest = ephemeralLow - 1 - companionOffset;
    boolean below = highest - LOWEST + 1 >= MIN_CANDIDATES;
    for (int attempt = 0; attempt < 500; attempt++) {
      int port = below ? ThreadLocalRandom.current().nextInt(LOWEST, highest + 1) : kernelChoice();
      int companion = port + companionOffset;
      if (companionOffset > 0 && companion > 65_535) {
        continue;
      }
      if (HANDED_OUT.contains(port) || HANDED_OUT.contains(companion) || !bindable(port)
        || (companionOffset > 0 && !bindable(companion))) {
        continue;
      }
      HANDED_OUT.add(port);
      HANDED_OUT.add(companion);
      return port;
    }
    throw new IOException("no free loopback port" + (companionOffset > 0 ? " pair (+" + companionOffset + ")" : ""));
  }

  /** The low end of the ephemeral port range, or 65,536 when it cannot be read (then any port below is a candidate). */
  static int ephemeralLow() {
    // One buffered read: Files.readString reads sysctl files a byte at a time and gets only their first byte.
    try (BufferedReader in = Files.newBufferedReader(RANGE, StandardCharsets.US_ASCII)) {
      String line = in.readLine();
      return Integer.parseInt(line.trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 65_536;
    }
  }

  private static int kernelChoice() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
