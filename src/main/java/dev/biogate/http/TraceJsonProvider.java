package dev.biogate.http;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.core.JsonGenerator;
import net.logstash.logback.composite.AbstractJsonProvider;

import java.io.IOException;

/**
 * Adds {@code request_id} and {@code trace_id} to every log line written while a request is being handled (see
 * {@link RequestTrace}). Vert.x moves a request between callbacks, not threads, so the ids are read from the current
 * Vert.x context instead of a thread-bound MDC.
 */
public final class TraceJsonProvider extends AbstractJsonProvider<ILoggingEvent> {

  @Override
  public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
    RequestTrace.Ids ids = RequestTrace.current();
    if (ids != null) {
      generator.writeStringField("request_id", ids.requestId());
      generator.writeStringField("trace_id", ids.traceId());
    }
  }
}
