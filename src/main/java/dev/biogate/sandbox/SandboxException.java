package dev.biogate.sandbox;

import io.vertx.core.VertxException;

/** An expected sandbox failure: the HTTP status and error code it becomes. Stackless. */
final class SandboxException extends VertxException {

  final int status;
  final String code;
  /** Seconds for a {@code Retry-After} header; 0 means none. */
  final long retryAfterSeconds;

  SandboxException(int status, String code, String message, long retryAfterSeconds) {
    super(message, true);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  SandboxException(int status, String code, String message) {
    this(status, code, message, 0);
  }

  static SandboxException badRequest(String code, String message) {
    return new SandboxException(400, code, message);
  }

  static SandboxException notFound(String message) {
    return new SandboxException(404, "not_found", message);
  }
}
