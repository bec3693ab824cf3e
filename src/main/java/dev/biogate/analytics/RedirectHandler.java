package dev.biogate.analytics;

import dev.biogate.http.ApiException;
import dev.biogate.http.ErrorResponses;
import dev.biogate.http.Usernames;
import dev.biogate.profile.ProfileErrors;
import dev.biogate.profile.ProfileService;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.function.LongSupplier;

/**
 * {@code GET /r/{username}/{linkId}}: {@code 302} to the URL the cached profile holds for that link, then records the
 * click (after the answer, without waiting on Redis) when {@link ClickGate} counts it: once per client per link per
 * window, never for bots, {@code HEAD} or prefetches. Each client's redirect rate is limited ({@code 429}). No open redirect: the target can only be a link of the named
 * creator's profile, and only an absolute {@code http}/{@code https} URL without credentials; anything else
 * ({@code javascript:}, {@code data:}, scheme-relative, unparseable) is a {@code 404}, never a {@code Location}.
 */
public final class RedirectHandler implements Handler<RoutingContext> {

  static final ApiException INVALID_LINK = new ApiException(400, "invalid_link_id", "link ids are 1-128 of [A-Za-z0-9._:-]");
  static final ApiException NO_PROFILE = new ApiException(404, "profile_not_found", "no such profile");
  static final ApiException NO_LINK = new ApiException(404, "link_not_found", "this profile has no such link");
  private static final int MAX_URL = 4096;

  private final ProfileService profiles;
  private final ClickRecorder recorder;
  private final ClickGate gate;
  private final LongSupplier clock;

  public RedirectHandler(ProfileService profiles, ClickRecorder recorder, ClickGate gate, LongSupplier clock) {
    this.profiles = profiles;
    this.recorder = recorder;
    this.gate = gate;
    this.clock = clock;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (!gate.admit(ctx.request())) {
      return;
    }
    String username = Usernames.normalize(ctx.pathParam("username"));
    String linkId = ctx.pathParam("linkId");
    if (username == null) {
      ErrorResponses.send(ctx.response(), Usernames.INVALID);
      return;
    }
    if (!ClickEvent.validLinkId(linkId)) {
      ErrorResponses.send(ctx.response(), INVALID_LINK);
      return;
    }
    profiles.lookup(username).onComplete(ar -> {
      if (ar.failed()) {
        ErrorResponses.send(ctx.response(), ProfileErrors.toHttp(ar.cause()));
        return;
      }
      if (!ar.result().found()) {
        ErrorResponses.send(ctx.response(), NO_PROFILE);
        return;
      }
      String target = safeTarget(urlOf(ar.result().document(), linkId));
      if (target == null) {
        ErrorResponses.send(ctx.response(), NO_LINK);
        return;
      }
      ctx.response().setStatusCode(302)
        .putHeader(HttpHeaders.LOCATION, target)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end();
      long now = clock.getAsLong();
      String eventId = gate.countable(ctx.request(), username, linkId, now);
      if (eventId != null) {
        recorder.record(new ClickEvent(eventId, username, linkId, now, ClickEvent.SOURCE_REDIRECT));
      }
    });
  }

  /** The URL the profile holds for this link id, or {@code null}. */
  static String urlOf(JsonObject profile, String linkId) {
    JsonArray links = profile.getJsonArray("links");
    if (links == null) {
      return null;
    }
    for (int i = 0; i < links.size(); i++) {
      Object o = links.getValue(i);
      if (o instanceof JsonObject && linkId.equals(((JsonObject) o).getValue("id"))) {
        Object url = ((JsonObject) o).getValue("url");
        return url instanceof String ? (String) url : null;
      }
    }
    return null;
  }

  /** The URL in ASCII form if it is an absolute http(s) URL with a host and no user info; else {@code null}. */
  static String safeTarget(String url) {
    if (url == null || url.isEmpty() || url.length() > MAX_URL) {
      return null;
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      return null;
    }
    String authority = uri.getRawAuthority();
    if (uri.isOpaque() || authority == null || authority.isEmpty() || authority.contains("@")) {
      return null;
    }
    return uri.toASCIIString();
  }
}
