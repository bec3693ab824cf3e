package dev.biogate.sandbox;

import java.util.ArrayList;
import java.util.List;

/** The profiles the sandbox starts with and returns to on reset: demo (25 links), alice (12), bob (3). */
final class SandboxDemoData {

  private static final String[][] DEMO = {
    {"New album out now", "https://music.example.com/demo/new-album"},
    {"Tour dates 2025", "https://tickets.example.com/demo/tour"},
    {"Official merch store", "https://shop.example.com/demo"},
    {"Watch the latest video", "https://video.example.com/watch/demo-latest"},
    {"Subscribe to the newsletter", "https://newsletter.example.org/demo"},
    {"Listen on streaming", "https://stream.example.net/artist/demo"},
    {"Behind the scenes blog", "https://blog.example.com/demo/behind-the-scenes"},
    {"Podcast: episode 42", "https://podcast.example.org/demo/42"},
    {"Become a member", "https://members.example.com/demo"},
    {"Book a session", "https://booking.example.com/demo"},
    {"Limited edition vinyl", "https://shop.example.com/demo/vinyl"},
    {"Fan club", "https://fans.example.net/demo"},
    {"Photo gallery", "https://photos.example.com/demo"},
    {"Charity stream replay", "https://video.example.com/watch/demo-charity"},
    {"Press kit", "https://press.example.org/demo/kit.pdf"},
    {"Lyrics", "https://lyrics.example.com/demo"},
    {"Studio diary", "https://blog.example.com/demo/studio-diary"},
    {"Collab playlist", "https://stream.example.net/playlist/demo-collab"},
    {"Gear I use", "https://gear.example.com/demo"},
    {"Online course", "https://learn.example.org/demo/course"},
    {"Join the community chat", "https://chat.example.net/demo"},
    {"Wallpapers", "https://downloads.example.com/demo/wallpapers"},
    {"Contact for business", "https://contact.example.com/demo"},
    {"Live Q&A signup", "https://events.example.org/demo/qa"},
    {"Thank you page", "https://example.com/demo/thanks"},
  };

  private static final String[][] ALICE = {
    {"My portfolio", "https://alice.example.com"},
    {"Design shop", "https://shop.example.com/alice"},
    {"Latest case study", "https://alice.example.com/work/case-study"},
    {"Recent shots", "https://shots.example.net/alice"},
    {"Hire me", "https://alice.example.com/hire"},
    {"Speaking schedule", "https://events.example.org/alice"},
    {"Free icon pack", "https://downloads.example.com/alice/icons"},
    {"Newsletter", "https://newsletter.example.org/alice"},
    {"Type specimen", "https://alice.example.com/type"},
    {"Workshop replay", "https://video.example.com/watch/alice-workshop"},
    {"Reading list", "https://alice.example.com/reading"},
    {"Say hi", "https://contact.example.com/alice"},
  };

  private static final String[][] BOB = {
    {"Bob's bakery menu", "https://bakery.example.com/menu"},
    {"Order online", "https://bakery.example.com/order"},
    {"Opening hours", "https://bakery.example.com/hours"},
  };

  private SandboxDemoData() {
  }

  static List<SandboxProfile> profiles() {
    return List.of(
      profile("demo", "Musician, podcaster and merch maker. Everything in one place.", "midnight", DEMO),
      profile("alice", "Product designer. Type nerd. Coffee first.", "pastel", ALICE),
      profile("bob", "Sourdough since 2009.", "default", BOB));
  }

  private static final String[] THEMES = {"default", "midnight", "pastel"};

  /** Generated profile number {@code i}: {@code links} links of its own, sizes like a typical small profile. */
  static SandboxProfile synthetic(String username, int i, int links) {
    String[][] rows = new String[links][];
    for (int k = 0; k < links; k++) {
      rows[k] = new String[] {"Link " + (k + 1) + " of creator " + i, "https://example.com/" + username + "/link-" + (k + 1)};
    }
    return profile(username, "Generated creator " + i + " for load tests.", THEMES[i % THEMES.length], rows);
  }

  private static SandboxProfile profile(String username, String bio, String theme, String[][] rows) {
    List<SandboxProfile.Link> links = new ArrayList<>(rows.length);
    for (int i = 0; i < rows.length; i++) {
      // Every third link has no thumbnail, as on real profiles.
      String thumbnail = i % 3 == 2 ? null : "https://cdn.example.net/thumbs/" + username + "-" + (i + 1) + ".jpg";
      links.add(new SandboxProfile.Link(String.format("lnk_%s_%02d", username, i + 1), rows[i][0], rows[i][1], i,
        thumbnail));
    }
    return new SandboxProfile(username, bio, "https://cdn.example.net/avatars/" + username + ".png", theme, links);
  }
}
