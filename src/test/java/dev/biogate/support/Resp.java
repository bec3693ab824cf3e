package dev.biogate.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A blocking, single-command RESP2 client for test set-up only: forming a cluster, asking Sentinel, killing and
 * checking nodes from a test thread, where futures would only add noise. Replies: {@code String} (simple or bulk),
 * {@code Long}, {@code List<Object>} or {@code null}; a Redis error is thrown as {@link Error}.
 */
public final class Resp {

  /** A Redis error reply. */
  public static final class Error extends RuntimeException {
    Error(String message) {
      super(message, null, false, false);
    }
  }

  private static final int TIMEOUT_MS = 5_000;

  private Resp() {
  }

  /** One command on a fresh connection to {@code 127.0.0.1:port}. */
  public static Object call(int port, Object... args) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
      s.setSoTimeout(TIMEOUT_MS);
      OutputStream out = s.getOutputStream();
      out.write(encode(args));
      out.flush();
      return read(new BufferedInputStream(s.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException("redis at port " + port + ": " + e.getMessage(), e);
    }
  }

  /** One command after {@code AUTH password} on a fresh connection (a server with {@code requirepass}). */
  public static Object callAs(String password, int port, Object... args) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
      s.setSoTimeout(TIMEOUT_MS);
      OutputStream out = s.getOutputStream();
      out.write(encode(new Object[] {"AUTH", password}));
      out.write(encode(args));
      out.flush();
      BufferedInputStream in = new BufferedInputStream(s.getInputStream());
      read(in);
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("redis at port " + port + ": " + e.getMessage(), e);
    }
  }

  /** Like {@link #call}, the reply as a string ({@code null} on a nil reply). */
  public static String string(int port, Object... args) {
    Object r = call(port, args);
    return r == null ? null : r.toString();
  }

  /** True when the server at {@code port} answers PING. */
  public static boolean alive(int port) {
    try {
      return "PONG".equals(call(port, "PING"));
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** One field of an {@code INFO} section, e.g. {@code info(port, "replication", "role")}. */
  public static String info(int port, String section, String field) {
    for (String line : string(port, "INFO", section).split("\r\n")) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1);
      }
    }
    return null;
  }

  private static byte[] encode(Object[] args) {
    StringBuilder sb = new StringBuilder().append('*').append(args.length).append("\r\n");
    for (Object a : args) {
      byte[] b = String.valueOf(a).getBytes(StandardCharsets.UTF_8);
      sb.append('$').append(b.length).append("\r\n").append(new String(b, StandardCharsets.UTF_8)).append("\r\n");
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static Object read(InputStream in) throws IOException {
    int type = in.read();
    String line = line(in);
    switch (type) {
      case '+':
        return line;
      case '-':
        throw new Error(line);
      case ':':
        return Long.parseLong(line);
      case '$': {
        int len = Integer.parseInt(line);
        if (len < 0) {
          return null;
        }
        byte[] b = in.readNBytes(len + 2);
        return new String(b, 0, len, StandardCharsets.UTF_8);
      }
      case '*': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          try {
            out.add(read(in));
          } catch (Error e) {
            out.add(e);
          }
        }
        return out;
      }
      default:
        throw new IOException("unexpected RESP type " + type);
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\r') {
        in.read();
        break;
      }
      b.write(c);
    }
    if (c == -1) {
      throw new IOException("connection closed");
    }
    return b.toString(StandardCharsets.UTF_8);
  }
}
