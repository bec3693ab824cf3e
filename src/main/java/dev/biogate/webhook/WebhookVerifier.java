package dev.biogate.webhook;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/**
 * Decides whether a webhook delivery really comes from its provider, from the request headers and the
 * <em>raw</em> body bytes, before anything parses the body: a JSON round trip would change the bytes that
 * were signed.
 * <p>
 * Implementations are pure (no I/O, no clock of their own: the caller passes the current time), thread-safe,
 * and never throw for anything a sender controls; every outcome is a {@link Verdict}. Header lookups are
 * case-insensitive, as a Vert.x request's headers are.
 */
public interface WebhookVerifier {

  /**
   * @param headers         the request headers (a case-insensitive {@link MultiMap})
   * @param rawBody         the body exactly as received
   * @param nowEpochSeconds the current Unix time in seconds, for providers that sign a timestamp
   * @return never {@code null}
   */
  Verdict verify(MultiMap headers, Buffer rawBody, long nowEpochSeconds);

  /**
   * What the headers alone decide, so a delivery can be refused on its head, before its body is asked for
   * ({@code 100 Continue}) or read: {@link Verdict#MISSING}, {@link Verdict#INVALID} for a signature that cannot be one
   * (its shape), or {@code null} when only the body can tell. {@link #verify} gives the same verdict for such headers.
   */
  Verdict screen(MultiMap headers);
}
