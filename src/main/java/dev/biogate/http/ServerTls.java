package dev.biogate.http;

import dev.biogate.config.TlsOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;

import java.util.Set;

/**
 * TLS for a listener from the configured PEM files: TLS 1.2 and 1.3 only, HTTP/1.1 (no ALPN offered). Every listener
 * (client, management) builds its options through here, so they share one certificate and one protocol floor.
 */
public final class ServerTls {

  /** Protocols offered; SSLv3, TLS 1.0 and 1.1 are refused. */
  public static final Set<String> PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  private ServerTls() {
  }

  /** {@code options} with TLS switched on when {@code tls} is enabled; unchanged otherwise. */
  public static HttpServerOptions apply(HttpServerOptions options, TlsOptions tls) {
    if (tls == null || !tls.enabled()) {
      return options;
    }
    return options.setSsl(true)
      .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile()).setKeyPath(tls.keyFile()))
      .setEnabledSecureTransportProtocols(PROTOCOLS)
      .setSslHandshakeTimeout(tls.handshakeTimeoutMs()).setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** {@code https} or {@code http}, for the log line that states where a listener is. */
  public static String scheme(TlsOptions tls) {
    return tls != null && tls.enabled() ? "https" : "http";
  }
}
